// Flamenco 3 custom job type: "Talking Head (batch manifest)".
//
// Install: copy this file into the `scripts/` folder beside the flamenco-manager executable
// (create the folder if it is not there). The Manager names the job type after the file,
// underscores turned into dashes: `talking-head`. Details and the settings: farm/README.md.
//
// The job renders the clips of a Talking Head CSV manifest through Blender and the
// extension's scripts/batch.py. It is split into `shards` tasks; task I of N runs
//
//     {blender} {blenderArgs} -b -P <batch_script> -- --manifest M --out O --shard I/N [extra]
//
// and renders the clips whose 0-based row index k has k % N == I - 1. A last task, which
// depends on every shard task, runs the same script with --summary-only in place of --shard
// and writes O/batch.json. batch.py is resumable and idempotent, so a retried or requeued
// task only renders what is not complete yet.
//
// Why the `blender-render` command and not `exec`: blender-render is Flamenco's command for
// running Blender. The Worker builds its command line as
// `{exe} {exeArgs} {argsBefore} {blendfile} {args}` from a list of arguments (no shell, so
// paths with spaces stay one argument each), splits `exeArgs` (the Manager's `{blenderArgs}`
// variable) with shell rules, finds a bare `blender` on PATH (or through the .blend file
// association on Windows) and watches Blender's log. `exec` would pass `{blenderArgs}`
// to Blender as one single argument ("-b -y"), and Flamenco's own documentation of `exec`
// says to use the dedicated command where there is one. The `blendfile` parameter is left
// empty: since Flamenco 3.5 the Worker then opens no .blend, which is what a script that
// builds its own scenes (one .blend per clip) needs. The Worker still wants the parameter to
// be a string, so it is "" rather than absent. `-b` is given again after `{blenderArgs}` so
// that Blender stays in the background even on a farm whose blenderArgs lacks it (a repeated
// -b is harmless).
//
// Plain JavaScript for Flamenco's goja engine: no import/export, top-level functions, and
// only the globals Flamenco provides to job compiler scripts (author, print, shellSplit).

const BATCH_SCRIPT_PLACEHOLDER = "/path/to/talking_head/scripts/batch.py";

// Options of scripts/batch.py that the job sets itself, per task.
const RESERVED_OPTIONS = ["--manifest", "--out", "--shard", "--summary-only"];

const JOB_TYPE = {
    label: "Talking Head (batch manifest)",
    description:
        "Render every clip of a Talking Head CSV manifest through Blender, split into shard " +
        "tasks that run on several workers at once, then write batch.json.",
    settings: [
        {
            key: "manifest",
            type: "string",
            subtype: "file_path",
            required: true,
            description:
                "The clips CSV (image, audio, optional name and per-clip settings), " +
                "as an absolute path the workers can read",
        },
        {
            key: "out",
            type: "string",
            subtype: "dir_path",
            required: true,
            description:
                "Folder on shared storage for one take folder per clip and batch.json, " +
                "as an absolute path the workers can write",
        },
        {
            key: "shards",
            type: "int32",
            default: 4,
            propargs: { min: 1 },
            description:
                "Number of render tasks; task I of N renders the clips whose 0-based row " +
                "index k has k % N == I - 1",
        },
        {
            key: "batch_script",
            type: "string",
            subtype: "file_path",
            required: true,
            default: BATCH_SCRIPT_PLACEHOLDER,
            description:
                "scripts/batch.py of the Talking Head checkout, as the workers see it " +
                "(replace the placeholder)",
        },
        {
            key: "extra_args",
            type: "string",
            default: "",
            description:
                "More options for batch.py after its own, split like a shell command line " +
                "(for example --extension /farm/talking_head.zip); given to every task",
        },
    ],
};

function compileJob(job) {
    const settings = batchSettings(job.settings);

    const shardTasks = [];
    for (let shard = 1; shard <= settings.shards; shard++) {
        const task = author.Task(`shard-${shard}-of-${settings.shards}`, "blender");
        task.addCommand(batchCommand(settings, ["--shard", `${shard}/${settings.shards}`]));
        shardTasks.push(task);
    }

    // Commands and dependencies go onto a task before job.addTask(): the Manager keeps a
    // copy of the task as it is at that call.
    const summaryTask = author.Task("summary", "blender");
    summaryTask.addCommand(batchCommand(settings, ["--summary-only"]));
    for (const task of shardTasks) {
        summaryTask.addDependency(task);
    }

    for (const task of shardTasks) {
        job.addTask(task);
    }
    job.addTask(summaryTask);

    print(
        `Talking Head batch: ${settings.shards} shard task(s) and a summary task for ` +
            `${settings.manifest} into ${settings.out}`
    );
}

// The validated settings of a job, or an Error with one sentence saying what to fix.
function batchSettings(raw) {
    const settings = raw || {};
    const manifest = pathSetting(
        settings,
        "manifest",
        "the path of the clips CSV as the workers see it"
    );
    const out = pathSetting(
        settings,
        "out",
        "the folder the workers write the take folders and batch.json into"
    );
    const script = pathSetting(
        settings,
        "batch_script",
        "scripts/batch.py of the Talking Head checkout as the workers see it"
    );
    if (script === BATCH_SCRIPT_PLACEHOLDER) {
        throw new Error(
            `The batch_script setting still holds the placeholder ${BATCH_SCRIPT_PLACEHOLDER}: ` +
                "set it to scripts/batch.py of the Talking Head checkout as the workers see it."
        );
    }
    return {
        manifest: manifest,
        out: out,
        script: script,
        shards: shardCount(settings.shards),
        extraArgs: extraArguments(settings.extra_args),
    };
}

function pathSetting(settings, key, what) {
    const value = settings[key];
    if (value === undefined || value === null || String(value).trim() === "") {
        throw new Error(`The ${key} setting is empty: set it to ${what}.`);
    }
    if (typeof value !== "string") {
        throw new Error(`The ${key} setting must be text (a path), not ${JSON.stringify(value)}.`);
    }
    if (value.startsWith("//")) {
        throw new Error(
            `The ${key} setting ${value} is relative to the .blend file: ` +
                "give an absolute path the workers can reach."
        );
    }
    return value;
}

function shardCount(value) {
    if (value === undefined || value === null || value === "") {
        return defaultOf("shards");
    }
    if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
        throw new Error(
            `The shards setting must be a whole number of at least 1, not ${JSON.stringify(value)}.`
        );
    }
    return value;
}

function extraArguments(value) {
    if (value === undefined || value === null || String(value).trim() === "") {
        return [];
    }
    if (typeof value !== "string") {
        throw new Error(
            `The extra_args setting must be text (a command line), not ${JSON.stringify(value)}.`
        );
    }
    let args;
    try {
        args = shellSplit(value);
    } catch (err) {
        throw new Error(
            `The extra_args setting ${value} cannot be split into arguments: ` +
                "close its quotes and do not end it with a lone backslash."
        );
    }
    for (const arg of args) {
        const option = arg.split("=")[0];
        if (RESERVED_OPTIONS.indexOf(option) >= 0) {
            throw new Error(
                `The extra_args setting may not contain ${option}: the job sets ` +
                    `${RESERVED_OPTIONS.join(", ")} itself.`
            );
        }
    }
    return args;
}

function defaultOf(key) {
    for (const setting of JOB_TYPE.settings) {
        if (setting.key === key) {
            return setting.default;
        }
    }
    throw new Error(`The job type has no setting ${key}.`);
}

// One `blender -b -P batch.py -- ...` run; `tail` is what differs between the tasks.
function batchCommand(settings, tail) {
    const scriptArgs = ["--manifest", settings.manifest, "--out", settings.out]
        .concat(tail)
        .concat(settings.extraArgs);
    return author.Command("blender-render", {
        exe: "{blender}",
        exeArgs: "{blenderArgs}",
        argsBefore: ["-b"],
        blendfile: "",
        args: ["-P", settings.script, "--"].concat(scriptArgs),
    });
}
