// Tests of the Flamenco 3 job type farm/flamenco/talking_head.js (run: node --test tests/js/).
//
// Flamenco Manager runs job compiler scripts in goja, in strict mode, with the globals
// `author`, `print`, `shellSplit` (and `path`, `process`, `frameChunker`, ..., which this job
// type does not use). The stand-in below follows the Manager's behaviour where it matters:
// - author.Task(name, type) trims both and refuses an empty one;
// - author.Command(name, parameters) takes a copy of the parameters (goja exports them);
// - job.addTask(task) stores a copy of the task as it is at that call (Go appends the
//   struct), so commands or dependencies added afterwards are lost; dependencies are kept
//   as references to tasks, recorded here by the tasks' ids;
// - the Worker's blender-render command runs `{exe} {exeArgs} {argsBefore} {blendfile}
//   {args}`, with exeArgs split by shell rules and an empty blendfile left out (3.5+), and it
//   refuses a blendfile parameter that is not a string.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import vm from "node:vm";

const REPO = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const JOB_FILE = join(REPO, "farm", "flamenco", "talking_head.js");
const SOURCE = readFileSync(JOB_FILE, "utf8");

const SCRIPT = "/farm/talking_head/scripts/batch.py";
// What the Manager's default variables expand to on a Linux worker.
const VARIABLES = { blender: "blender", blenderArgs: "-b -y" };

// Shell-style splitting as Flamenco's shellSplit (github.com/google/shlex) does it: blanks
// separate words, '...' is literal, "..." and a bare backslash escape the next character.
function shellSplit(text) {
    const words = [];
    let word = null;
    let quote = null;
    for (let i = 0; i < text.length; i++) {
        const ch = text[i];
        if (quote === "'") {
            if (ch === "'") quote = null;
            else word += ch;
        } else if (ch === "\\") {
            if (i + 1 >= text.length) throw new Error("EOF found after escape character");
            word = (word ?? "") + text[++i];
        } else if (quote === '"') {
            if (ch === '"') quote = null;
            else word += ch;
        } else if (ch === "'" || ch === '"') {
            quote = ch;
            word = word ?? "";
        } else if (/\s/.test(ch)) {
            if (word !== null) words.push(word);
            word = null;
        } else {
            word = (word ?? "") + ch;
        }
    }
    if (quote !== null) throw new Error("EOF found when expecting closing quote");
    if (word !== null) words.push(word);
    return words;
}

function makeAuthor() {
    let nextId = 1;
    return {
        Task(name, type) {
            name = String(name ?? "").trim();
            type = String(type ?? "").trim();
            if (!name) throw new Error("author.Task(name, type): name is required");
            if (!type) throw new Error("author.Task(name, type): type is required");
            const task = {
                id: `task-${nextId++}`,
                name,
                type,
                commands: [],
                dependencies: [],
                addCommand(command) {
                    assert.ok(command && command.isAuthoredCommand, "addCommand takes author.Command()");
                    this.commands.push(command);
                },
                addDependency(other) {
                    assert.ok(other && other.id, "addDependency takes author.Task()");
                    this.dependencies.push(other);
                },
            };
            return task;
        },
        Command(name, parameters, totalStepCount = 0) {
            return {
                isAuthoredCommand: true,
                name,
                parameters: structuredClone(parameters),
                totalStepCount,
            };
        },
    };
}

function makeJob(settings) {
    const tasks = [];
    return {
        name: "clips",
        created: new Date("2025-01-02T03:04:05Z"),
        settings,
        tasks,
        addTask(task) {
            assert.ok(task && task.id, "addTask takes author.Task()");
            tasks.push({
                id: task.id,
                name: task.name,
                type: task.type,
                commands: task.commands.map((c) => ({ name: c.name, parameters: c.parameters })),
                dependencies: task.dependencies.map((d) => d.id),
            });
        },
    };
}

// A fresh Manager-like context with the job type loaded; its JOB_TYPE and compileJob.
function loadJobType() {
    const printed = [];
    const context = vm.createContext({
        author: makeAuthor(),
        print: (...args) => printed.push(args.join(" ")),
        shellSplit,
    });
    // goja.Compile(filename, source, strict=true): the Manager compiles in strict mode.
    new vm.Script(`"use strict";${SOURCE}`, { filename: JOB_FILE }).runInContext(context);
    return {
        JOB_TYPE: vm.runInContext("JOB_TYPE", context),
        compileJob: vm.runInContext("compileJob", context),
        printed,
    };
}

function compile(settings) {
    const { compileJob, printed } = loadJobType();
    const job = makeJob(settings);
    compileJob(job);
    return { tasks: job.tasks, printed };
}

function settingsWith(overrides = {}) {
    return {
        manifest: "/farm/clips.csv",
        out: "/farm/out",
        shards: 4,
        batch_script: SCRIPT,
        extra_args: "",
        ...overrides,
    };
}

// The argv a Flamenco Worker runs for a blender-render command.
function workerArgv(command) {
    assert.equal(command.name, "blender-render");
    const p = command.parameters;
    const expand = (s) => s.replace(/\{(\w+)\}/g, (m, name) => VARIABLES[name] ?? m);
    assert.equal(typeof p.exe, "string");
    assert.ok(p.exe.length > 0, "exe is required");
    assert.equal(typeof p.blendfile, "string", "the Worker refuses a blendfile that is not a string");
    for (const key of ["argsBefore", "args"]) {
        assert.ok(Array.isArray(p[key]), `${key} is a list`);
        for (const arg of p[key]) assert.equal(typeof arg, "string", `${key} holds strings only`);
    }
    return [
        expand(p.exe),
        ...shellSplit(expand(p.exeArgs ?? "")),
        ...p.argsBefore.map(expand),
        ...(p.blendfile ? [expand(p.blendfile)] : []),
        ...p.args.map(expand),
    ];
}

function expectedArgv({ manifest, out, script = SCRIPT, extra = [] }, tail) {
    return [
        "blender", "-b", "-y", "-b", "-P", script, "--",
        "--manifest", manifest, "--out", out, ...tail, ...extra,
    ];
}

function checkJob(tasks, shards, paths) {
    assert.equal(tasks.length, shards + 1, "one task per shard and a summary task");
    const shardTasks = tasks.slice(0, shards);
    const summary = tasks[shards];
    shardTasks.forEach((task, index) => {
        const shard = index + 1;
        assert.equal(task.name, `shard-${shard}-of-${shards}`);
        assert.equal(task.type, "blender");
        assert.deepEqual(task.dependencies, [], "shard tasks run in parallel");
        assert.equal(task.commands.length, 1);
        assert.deepEqual(
            workerArgv(task.commands[0]),
            expectedArgv(paths, ["--shard", `${shard}/${shards}`]),
        );
    });
    assert.equal(summary.name, "summary");
    assert.equal(summary.type, "blender");
    assert.equal(summary.commands.length, 1);
    assert.deepEqual(workerArgv(summary.commands[0]), expectedArgv(paths, ["--summary-only"]));
    assert.deepEqual(
        summary.dependencies,
        shardTasks.map((t) => t.id),
        "the summary waits for every shard task",
    );
    const ids = new Set(tasks.map((t) => t.id));
    assert.equal(ids.size, tasks.length, "task ids are unique");
}

test("the job type declares its settings as Flamenco's AvailableJobSetting schema allows", () => {
    const { JOB_TYPE } = loadJobType();
    assert.equal(JOB_TYPE.label, "Talking Head (batch manifest)");
    assert.equal(typeof JOB_TYPE.description, "string");
    const byKey = Object.fromEntries(JOB_TYPE.settings.map((s) => [s.key, s]));
    assert.deepEqual(Object.keys(byKey), ["manifest", "out", "shards", "batch_script", "extra_args"]);
    for (const setting of JOB_TYPE.settings) {
        assert.ok(["string", "int32", "float", "bool"].includes(setting.type), setting.key);
        if (setting.subtype !== undefined) {
            assert.ok(
                ["file_path", "dir_path", "file_name", "hashed_file_path"].includes(setting.subtype),
                setting.key,
            );
        }
        if (setting.visible !== undefined) {
            assert.ok(["visible", "hidden", "submission", "web"].includes(setting.visible), setting.key);
        }
        assert.equal(typeof setting.description, "string", setting.key);
    }
    assert.equal(byKey.manifest.type, "string");
    assert.equal(byKey.manifest.subtype, "file_path");
    assert.equal(byKey.manifest.required, true);
    assert.equal(byKey.out.subtype, "dir_path");
    assert.equal(byKey.out.required, true);
    assert.equal(byKey.shards.type, "int32");
    assert.equal(byKey.shards.default, 4);
    assert.deepEqual({ ...byKey.shards.propargs }, { min: 1 });
    assert.equal(byKey.batch_script.default, "/path/to/talking_head/scripts/batch.py");
    assert.equal(byKey.extra_args.type, "string");
    assert.equal(byKey.extra_args.default, "");
});

test("the file is a plain script: no modules, nothing beyond Flamenco's globals", () => {
    assert.doesNotMatch(SOURCE, /^\s*(import|export)\b/m);
    assert.doesNotMatch(SOURCE, /\brequire\s*\(/);
    // loadJobType's context has only author, print and shellSplit: compiling succeeds.
    assert.equal(compile(settingsWith()).tasks.length, 5);
});

test("1 shard: one render task for shard 1/1, then the summary", () => {
    const { tasks, printed } = compile(settingsWith({ shards: 1 }));
    checkJob(tasks, 1, { manifest: "/farm/clips.csv", out: "/farm/out" });
    assert.deepEqual(tasks[0].commands[0].parameters, {
        exe: "{blender}",
        exeArgs: "{blenderArgs}",
        argsBefore: ["-b"],
        blendfile: "",
        args: [
            "-P", SCRIPT, "--",
            "--manifest", "/farm/clips.csv", "--out", "/farm/out", "--shard", "1/1",
        ],
    });
    assert.equal(printed.length, 1);
});

test("4 shards: shards 1/4 to 4/4, each once, and a summary after all of them", () => {
    const { tasks } = compile(settingsWith({ shards: 4 }));
    checkJob(tasks, 4, { manifest: "/farm/clips.csv", out: "/farm/out" });
    const shardValues = tasks.slice(0, 4).map((t) => {
        const args = t.commands[0].parameters.args;
        return args[args.indexOf("--shard") + 1];
    });
    assert.deepEqual(shardValues, ["1/4", "2/4", "3/4", "4/4"]);
});

test("any shard count: I/N for I = 1..N, matching k % N == I - 1 in the batch runner", () => {
    for (const shards of [2, 3, 7, 16]) {
        const { tasks } = compile(settingsWith({ shards }));
        checkJob(tasks, shards, { manifest: "/farm/clips.csv", out: "/farm/out" });
        // Every manifest row k lands in exactly one task.
        const owners = Array.from({ length: 50 }, (_, k) =>
            tasks.slice(0, shards).filter((t) => {
                const args = t.commands[0].parameters.args;
                const [i, n] = args[args.indexOf("--shard") + 1].split("/").map(Number);
                return k % n === i - 1;
            }).length,
        );
        assert.deepEqual(owners, Array(50).fill(1), `${shards} shards`);
    }
});

test("a missing shard count takes the default, 4", () => {
    const settings = settingsWith();
    delete settings.shards;
    checkJob(compile(settings).tasks, 4, { manifest: "/farm/clips.csv", out: "/farm/out" });
});

test("paths with spaces stay one argument each", () => {
    const paths = {
        manifest: "/mnt/shared drive/My Clips/clips list.csv",
        out: "/mnt/shared drive/Talking Head takes",
        script: "/opt/talking head/scripts/batch.py",
    };
    const { tasks } = compile(
        settingsWith({
            manifest: paths.manifest,
            out: paths.out,
            batch_script: paths.script,
            shards: 2,
        }),
    );
    checkJob(tasks, 2, paths);
});

test("extra arguments are split like a shell line and go after batch.py's own, in every task", () => {
    const extra = ["--extension", "/farm/builds/talking head.zip", "--seed", "3", "--fps=30"];
    const { tasks } = compile(
        settingsWith({
            shards: 3,
            extra_args: `--extension "/farm/builds/talking head.zip" --seed 3 --fps=30`,
        }),
    );
    checkJob(tasks, 3, { manifest: "/farm/clips.csv", out: "/farm/out", extra });
});

test("blank extra arguments add nothing", () => {
    for (const extra_args of ["", "   ", undefined, null]) {
        const { tasks } = compile(settingsWith({ shards: 1, extra_args }));
        checkJob(tasks, 1, { manifest: "/farm/clips.csv", out: "/farm/out" });
    }
});

function assertRefused(overrides, message) {
    const { compileJob } = loadJobType();
    const job = makeJob(settingsWith(overrides));
    assert.throws(() => compileJob(job), { name: "Error", message });
    assert.equal(job.tasks.length, 0, "a refused job gets no tasks");
}

test("a missing manifest or output folder is refused with one sentence", () => {
    for (const manifest of [undefined, null, "", "  "]) {
        assertRefused(
            { manifest },
            "The manifest setting is empty: set it to the path of the clips CSV as the workers see it.",
        );
    }
    for (const out of [undefined, ""]) {
        assertRefused(
            { out },
            "The out setting is empty: set it to the folder the workers write the take folders " +
                "and batch.json into.",
        );
    }
});

test("a shard count below 1 or not a whole number is refused", () => {
    for (const [shards, shown] of [[0, "0"], [-2, "-2"], [2.5, "2.5"], ["4", '"4"']]) {
        assertRefused(
            { shards },
            `The shards setting must be a whole number of at least 1, not ${shown}.`,
        );
    }
});

test("the script path placeholder, blend-relative paths and bad extra arguments are refused", () => {
    assertRefused(
        { batch_script: "/path/to/talking_head/scripts/batch.py" },
        "The batch_script setting still holds the placeholder /path/to/talking_head/scripts/batch.py: " +
            "set it to scripts/batch.py of the Talking Head checkout as the workers see it.",
    );
    assertRefused(
        { batch_script: "" },
        "The batch_script setting is empty: set it to scripts/batch.py of the Talking Head " +
            "checkout as the workers see it.",
    );
    assertRefused(
        { manifest: "//clips.csv" },
        "The manifest setting //clips.csv is relative to the .blend file: give an absolute path " +
            "the workers can reach.",
    );
    assertRefused(
        { extra_args: '--extension "/farm/talking head.zip' },
        'The extra_args setting --extension "/farm/talking head.zip cannot be split into ' +
            "arguments: close its quotes and do not end it with a lone backslash.",
    );
    for (const [extra_args, option] of [
        ["--shard 1/2", "--shard"],
        ["--seed 1 --out=/elsewhere", "--out"],
        ["--summary-only", "--summary-only"],
    ]) {
        assertRefused(
            { extra_args },
            `The extra_args setting may not contain ${option}: the job sets --manifest, --out, ` +
                "--shard, --summary-only itself.",
        );
    }
});
