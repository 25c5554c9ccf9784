"""Render docs/character_demo.png: a simple test head with ARKit shape keys, driven by the voice.

    .venv/bin/python -m tools.render_character_demo     (needs the bpy module; about a minute)

Builds a head (a sphere with eyes and a mouth) whose shape keys are named after ARKit
(jawOpen, eyeBlinkLeft/Right, mouthSmileLeft/Right, mouthPucker, browInnerUp), makes the
motion of samples/speech.wav with the engine (the same ``voice_take`` Animate Character
runs), keys it with the engine's plan (``plan_shape_keys``, ``rotation_curves``), and renders
six frames with Cycles on the CPU at low samples into one PNG strip.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import bpy
import cv2
import numpy as np

from core.character.mapping import plan_shape_keys, rotation_curves
from core.character.take import voice_take
from core.take.settings import Settings

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "docs" / "character_demo.png"
FPS, SIZE = 12, 200


def sphere(bm_verts, center, radius, rings=16, segments=24, squash=(1.0, 1.0, 1.0)):
    """Vertices and quads of a UV sphere (plain lists, offset by the vertex count so far)."""
    base = len(bm_verts)
    verts, faces = [], []
    for r in range(1, rings):
        theta = math.pi * r / rings
        for s in range(segments):
            phi = 2 * math.pi * s / segments
            verts.append(
                (
                    center[0] + radius * squash[0] * math.sin(theta) * math.cos(phi),
                    center[1] + radius * squash[1] * math.sin(theta) * math.sin(phi),
                    center[2] + radius * squash[2] * math.cos(theta),
                )
            )
    for r in range(rings - 2):
        for s in range(segments):
            a, b = r * segments + s, r * segments + (s + 1) % segments
            faces.append((base + a, base + b, base + b + segments, base + a + segments))
    bm_verts.extend(verts)
    return faces, range(base, base + len(verts))


def build_head() -> bpy.types.Object:
    verts: list = []
    head, _ = sphere(verts, (0, 0, 0), 1.0, squash=(0.85, 0.9, 1.1))
    eye_l, eye_l_idx = sphere(verts, (0.32, -0.72, 0.22), 0.16, 10, 16)
    eye_r, eye_r_idx = sphere(verts, (-0.32, -0.72, 0.22), 0.16, 10, 16)
    mouth, mouth_idx = sphere(verts, (0, -0.78, -0.42), 0.26, 10, 16, squash=(1.2, 0.5, 0.25))
    mesh = bpy.data.meshes.new("TestHead")
    mesh.from_pydata(verts, [], head + eye_l + eye_r + mouth)
    for poly in mesh.polygons:
        first = poly.vertices[0]
        poly.material_index = (
            0 if first < eye_l_idx.start else (1 if first < mouth_idx.start else 2)
        )
        poly.use_smooth = True
    for name, color in (
        ("Skin", (0.8, 0.55, 0.42, 1)),
        ("Eye", (0.05, 0.05, 0.08, 1)),
        ("Mouth", (0.35, 0.02, 0.04, 1)),
    ):
        mat = bpy.data.materials.new(name)
        mat.use_nodes = True
        mat.node_tree.nodes["Principled BSDF"].inputs["Base Color"].default_value = color
        mesh.materials.append(mat)
    obj = bpy.data.objects.new("TestHead", mesh)
    bpy.context.scene.collection.objects.link(obj)
    obj.shape_key_add(name="Basis")
    co = np.array(verts)

    def key(name, move):
        block = obj.shape_key_add(name=name)
        shifted = co.copy()
        move(shifted)
        block.data.foreach_set("co", shifted.ravel().astype(np.float32))

    lower_mouth = [i for i in mouth_idx if co[i, 2] < -0.42]
    chin = [i for i in range(eye_l_idx.start) if co[i, 2] < -0.45 and co[i, 1] < 0]

    def jaw(v):
        v[lower_mouth, 2] -= 0.28
        v[chin, 2] -= 0.12 * np.clip((-0.45 - co[chin, 2]) * 3, 0, 1)

    def blink(idx):
        def move(v):
            centre = co[list(idx)].mean(0)
            v[list(idx), 2] = centre[2] + (co[list(idx), 2] - centre[2]) * 0.1

        return move

    def smile(side):
        def move(v):
            corner = [i for i in mouth_idx if co[i, 0] * side > 0.18]
            v[corner, 2] += 0.12 * np.abs(co[corner, 0]) / 0.31

        return move

    def pucker(v):
        v[list(mouth_idx), 0] *= 0.6
        v[list(mouth_idx), 1] -= 0.08

    key("jawOpen", jaw)
    key("eyeBlinkLeft", blink(eye_l_idx))
    key("eyeBlinkRight", blink(eye_r_idx))
    key("mouthSmileLeft", smile(1))
    key("mouthSmileRight", smile(-1))
    key("mouthPucker", pucker)
    return obj


def scene_setup() -> None:
    scene = bpy.context.scene
    scene.render.engine = "CYCLES"
    scene.cycles.device = "CPU"
    scene.cycles.samples = 16
    scene.render.resolution_x = scene.render.resolution_y = SIZE
    cam = bpy.data.objects.new("Camera", bpy.data.cameras.new("Camera"))
    cam.location, cam.rotation_euler = (0, -5.2, 0.1), (math.radians(90), 0, 0)
    scene.collection.objects.link(cam)
    scene.camera = cam
    light = bpy.data.objects.new("Key", bpy.data.lights.new("Key", "AREA"))
    light.data.energy, light.data.size = 400, 3
    light.location, light.rotation_euler = (2, -4, 3), (math.radians(50), 0, math.radians(25))
    scene.collection.objects.link(light)
    world = bpy.data.worlds.new("World")
    world.use_nodes = True
    world.node_tree.nodes["Background"].inputs["Color"].default_value = (0.18, 0.2, 0.24, 1)
    scene.world = world


def main() -> None:
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene_setup()
    head = build_head()
    with tempfile.TemporaryDirectory() as tmp:
        take = voice_take(REPO / "samples" / "speech.wav", Path(tmp) / "take", Settings(fps=FPS))
        track = take.track
        keys = {head.name: [k.name for k in head.data.shape_keys.key_blocks]}
        plan = plan_shape_keys(track.channels, keys)
        jaw = track["jawOpen"][: 4 * FPS]
        picks = sorted({int(i) for i in np.argsort(jaw)[[0, 8, 20, 30, 40, 47]]})
        tiles = []
        for i in picks:
            for channel, _mesh, name in plan.keys:
                head.data.shape_keys.key_blocks[name].value = float(
                    np.clip(track[channel][i], 0, 1)
                )
            for index, values in rotation_curves(track, "head", False, (0.0, 0.0, 0.0)).items():
                head.rotation_euler[index] = float(values[i])
            scene = bpy.context.scene
            scene.render.filepath = str(Path(tmp) / f"f{i}.png")
            bpy.ops.render.render(write_still=True)
            tile = cv2.imread(scene.render.filepath)
            label = f"{i / FPS:.2f}s jaw {track['jawOpen'][i]:.2f}"
            cv2.putText(
                tile,
                label,
                (6, SIZE - 8),
                cv2.FONT_HERSHEY_SIMPLEX,
                0.42,
                (255, 255, 255),
                1,
                cv2.LINE_AA,
            )
            tiles.append(tile)
    cv2.imwrite(str(OUT), np.hstack(tiles), [cv2.IMWRITE_PNG_COMPRESSION, 9])
    print(
        f"written: {OUT} ({OUT.stat().st_size // 1024} KB), frames {picks}, lacking: {plan.missing}"
    )


if __name__ == "__main__":
    main()
