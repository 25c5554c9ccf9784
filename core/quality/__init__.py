"""Measuring the output: quality on rendered frames, contact sheets, and the benchmark.

``evaluate`` reads rendered frames back with the landmark model and sets the measurements
against the MotionTrack that made them; ``contact_sheet`` renders every channel at its
extremes into one picture; ``bench`` times a whole take (``make bench``). Nothing here is
needed to make a take.
"""
