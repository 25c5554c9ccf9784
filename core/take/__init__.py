"""Stage 5, the take: running the stages into a take folder on disk, and reading it back.

``record`` is the take's folder format (``run.json`` as a typed ``RunRecord``,
``motion.npz``, frame files); ``settings`` the take's settings; ``generate`` makes a take
end to end; ``rerender`` renders again only the frames whose motion changed; ``loop`` is the
one frame loop both share (cancel, writers, progress); ``frames`` and ``png`` encode and
write frame files; ``crop`` makes VASA-1's 512x512 face crops; ``video`` muxes an MP4.
"""
