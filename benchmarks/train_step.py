"""Whole training steps on the CPU: scratchgan against the same model in PyTorch, in one process.

Each case is one optimiser step of a registry model (``model.train_step`` on a uint8 batch, exactly
what ``scratchgan train`` runs) and the same architecture, loss, optimiser and batch written in
PyTorch. The two alternate step by step after warm-up; the medians are compared. Cases:

    gan        MLP GAN (G 30-100-150-784, D 784-150-100-1, SELU), D on [fake; real] then G,
               RMSprop, b128
    vae        dense VAE (784-150-100-10 x2, mirrored decoder, SELU), BCE + KL/784, RMSprop, b128
    dcgan28    Hands-On ML DCGAN, D on [fake; real] then G, Adam 2e-4 beta1 0.5, b32 and b128
    dcgan64    Radford et al. 64x64 DCGAN (width 64), D on real and on fake, then G, Adam 2e-4, b64
    wgan-gp    one critic step of dcgan with the gradient penalty (double backward), Adam 1e-4, b64

``--memory`` also measures the peak resident memory of a DCGAN28 batch-128 training process, each
framework in a fresh subprocess (the other is never imported there).

    python benchmarks/train_step.py [--threads N] [--filter dcgan] [--repeat 10] [--memory]
                                    [--profile]

After the timing, each case runs again under ``sg.profile()``: the JSON keeps the table, and the
Markdown says how much of the step the per-op times account for and which ops take the most.

Results go to benchmarks/results/train-step-cpu[-threadsN].{json,md,png}.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [p for p in (HERE, os.path.dirname(HERE)) if p not in sys.path]

import numpy as np

import machine  # noqa: E402
from harness import alternate, environment, load_average

RESULTS = os.path.join(HERE, "results")


# ----- the cases: (name, registry model, config overrides, batch, image size, step kind)
CASES = [
    ("gan b128", "gan", {}, 128, 28, "gan"),
    ("vae b128", "vae", {}, 128, 28, "vae"),
    (
        "dcgan28 b32",
        "dcgan",
        {"optimizer": "adam", "lr": 2e-4, "betas": [0.5, 0.999], "eps": 1e-8},
        32,
        28,
        "gan",
    ),
    (
        "dcgan28 b128",
        "dcgan",
        {"optimizer": "adam", "lr": 2e-4, "betas": [0.5, 0.999], "eps": 1e-8},
        128,
        28,
        "gan",
    ),
    ("dcgan64 b64", "dcgan64", {}, 64, 64, "gan"),
    ("wgan-gp critic b64", "dcgan", {"loss": "wgan-gp"}, 64, 28, "critic"),
]


def scratchgan_step(model_name, overrides, batch, size, kind, device=None):
    from scratchgan import train

    on = {} if device is None else {"device": device}  # gpu_train_step.py: "cuda"
    config = train.make_config(model_name, batch_size=batch, **on, **overrides)
    config["image_shape"] = [1, size, size]
    model = train.build_model(config)
    images = np.random.default_rng(0).integers(0, 256, (batch, size, size), dtype=np.uint8)

    def step():
        # the first step of a run: with n_critic 5 (the critic case) it updates D only
        model.train_step((images,), train.StepContext())

    return step


# ----- the same models in PyTorch
def torch_model(model_name, config, size):
    from torch import nn

    def keras_init(
        *modules,
    ):  # glorot-uniform weights, zero biases (Keras's defaults, as the recipes)
        for module in modules:
            for m in module.modules():
                if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
                    nn.init.xavier_uniform_(m.weight)
                    if m.bias is not None:
                        nn.init.zeros_(m.bias)

    if model_name == "gan":
        G = nn.Sequential(
            nn.Linear(30, 100),
            nn.SELU(),
            nn.Linear(100, 150),
            nn.SELU(),
            nn.Linear(150, 784),
            nn.Sigmoid(),
            nn.Unflatten(1, (1, 28, 28)),
        )
        D = nn.Sequential(
            nn.Flatten(),
            nn.Linear(784, 150),
            nn.SELU(),
            nn.Linear(150, 100),
            nn.SELU(),
            nn.Linear(100, 1),
        )
        keras_init(G, D)
        return G, D, 30, (0.0, 1.0)
    if model_name in ("dcgan", "dcgan64"):  # the equivalence study's torch mirrors
        sys.path.insert(0, os.path.join(os.path.dirname(HERE), "scripts", "equivalence"))
        import reference

        networks = getattr(reference, f"{model_name}_networks")
        G, D = networks({**config, "image_shape": [1, size, size]}, None)
        reference.init_(G, config["init"], None)
        reference.init_(D, config["init"], None)
        return G, D, config["codings_size"], (-1.0, 1.0)
    raise ValueError(model_name)


def torch_optimizer(params, config, torch):
    if config["optimizer"] == "adam":
        return torch.optim.Adam(
            params, lr=config["lr"], betas=tuple(config["betas"]), eps=config["eps"]
        )
    return torch.optim.RMSprop(params, lr=config["lr"], alpha=config["alpha"], eps=config["eps"])


def torch_step(model_name, overrides, batch, size, kind, device=None):
    """The PyTorch step; ``device`` (gpu_train_step.py: "cuda") builds and runs it there."""
    import torch

    if device is not None:
        with torch.device(device):
            step = torch_step(model_name, overrides, batch, size, kind)

        def on_device():
            with torch.device(device):
                step()

        return on_device
    import torch.nn.functional as tF
    from torch import nn

    from scratchgan import train

    config = train.make_config(model_name, batch_size=batch, **overrides)
    torch.manual_seed(0)
    images = torch.from_numpy(
        np.random.default_rng(0).integers(0, 256, (batch, 1, size, size), dtype=np.uint8)
    )
    images = images.to(torch.get_default_device())

    if kind == "vae":
        body = nn.Sequential(
            nn.Flatten(), nn.Linear(784, 150), nn.SELU(), nn.Linear(150, 100), nn.SELU()
        )
        mean, log_var = nn.Linear(100, 10), nn.Linear(100, 10)
        decoder = nn.Sequential(
            nn.Linear(10, 100),
            nn.SELU(),
            nn.Linear(100, 150),
            nn.SELU(),
            nn.Linear(150, 784),
            nn.Sigmoid(),
            nn.Unflatten(1, (1, 28, 28)),
        )
        modules = nn.ModuleList([body, mean, log_var, decoder])
        opt = torch_optimizer(modules.parameters(), config, torch)

        def vae_step():
            x = images.float() / 255
            h = body(x)
            mu, gamma = mean(h), log_var(h)
            x_hat = decoder(mu + (gamma * 0.5).exp() * torch.randn_like(mu))
            kl = -0.5 * (1 + gamma - gamma.exp() - mu * mu).sum(1)
            loss = tF.binary_cross_entropy(x_hat, x) + kl.mean() / 784
            opt.zero_grad()
            loss.backward()
            opt.step()

        return vae_step

    G, D, nz, (lo, hi) = torch_model(model_name, config, size)
    opt_g, opt_d = (
        torch_optimizer(G.parameters(), config, torch),
        torch_optimizer(D.parameters(), config, torch),
    )
    bce = tF.binary_cross_entropy_with_logits
    ones, zeros = torch.ones(batch, 1), torch.zeros(batch, 1)
    joint = config.get("d_batches", "joint") == "joint"

    def d_outputs():
        """(real batch, fake batch, D(real), D(fake)), with D's gradients cleared."""
        real = images.float() * ((hi - lo) / 255) + lo
        with torch.no_grad():
            fake = G(torch.randn(batch, nz))
        opt_d.zero_grad()
        if joint:  # one D pass over [fake; real], as the book (D has no batch norm)
            out = D(torch.cat([fake, real]))
            return real, fake, out[batch:], out[:batch]
        return real, fake, D(real), D(fake)

    if kind == "critic":

        def critic_step():
            real, fake, real_out, fake_out = d_outputs()
            e = torch.rand(batch, 1, 1, 1)
            x = (e * real + (1 - e) * fake).requires_grad_(True)
            (gx,) = torch.autograd.grad(D(x).sum(), x, create_graph=True)
            gp = ((gx.flatten(1).pow(2).sum(1) + 1e-12).sqrt() - 1).pow(2).mean()
            loss = fake_out.mean() - real_out.mean() + config["gp_weight"] * gp
            loss.backward()
            opt_d.step()

        return critic_step

    def gan_step():
        _, _, real_out, fake_out = d_outputs()
        loss_d = bce(torch.cat([fake_out, real_out]), torch.cat([zeros, ones]))
        loss_d.backward()
        opt_d.step()
        opt_g.zero_grad()
        D.requires_grad_(False)
        loss_g = bce(D(G(torch.randn(batch, nz))), ones)
        loss_g.backward()
        D.requires_grad_(True)
        opt_g.step()

    return gan_step


# ----- timing
def repeats_for(seconds_per_step, budget, lo=5, hi=50):
    return int(min(hi, max(lo, budget / max(seconds_per_step, 1e-6))))


def run_case(case, args):
    name, model, overrides, batch, size, kind = case
    ours = scratchgan_step(model, overrides, batch, size, kind)
    theirs = torch_step(model, overrides, batch, size, kind)
    t0 = time.perf_counter()
    ours()
    theirs()
    repeat = args.repeat or repeats_for(time.perf_counter() - t0, args.budget)
    times = alternate([ours, theirs], repeat, args.warmup)
    a, b = statistics.median(times[0]), statistics.median(times[1])
    row = {
        "case": name,
        "model": model,
        "batch": batch,
        "repeat": repeat,
        "scratchgan_ms": round(1000 * a, 2),
        "torch_ms": round(1000 * b, 2),
        "ratio": round(a / b, 3),
        "scratchgan_images_per_s": round(batch / a, 1),
        "torch_images_per_s": round(batch / b, 1),
        "scratchgan_ms_all": [round(1000 * t, 2) for t in times[0]],
        "torch_ms_all": [round(1000 * t, 2) for t in times[1]],
    }
    row.update(profile_steps(ours, max(2, repeat // 2), a))
    print(
        f"{name:<20} scratchgan {row['scratchgan_ms']:9.1f} ms  torch {row['torch_ms']:9.1f} ms  "
        f"ratio {row['ratio']:.2f}  ({repeat} alternating steps; profiled ops add up to "
        f"{100 * row['profile_coverage']:.0f}% of the profiled steps, which took "
        f"{row['profile_overhead']:.2f}x the median)",
        flush=True,
    )
    if args.profile:
        print(row["profile_table"])
    return row


def profile_steps(step, steps, step_seconds):
    """sg.profile() over ``steps`` steps: the per-op times summed against the wall time of those
    same steps (coverage), and that wall time against the unprofiled median step (the profiler's
    overhead)."""
    import scratchgan as sg

    with sg.profile() as prof:
        for _ in range(steps):
            step()
    rows = prof.rows()
    ops = sum(seconds for *_, seconds, _ in rows) / steps
    wall = prof.wall / steps
    return {
        "profile_ops_ms": round(1000 * ops, 2),
        "profile_wall_ms": round(1000 * wall, 2),
        "profile_coverage": round(ops / wall, 3),
        "profile_overhead": round(wall / step_seconds, 3),
        "profile_top": [
            {
                "op": op,
                "direction": d,
                "calls_per_step": calls / steps,
                "ms_per_step": round(1000 * sec / steps, 2),
                "share": round(share, 3),
            }
            for op, d, calls, sec, share in rows[:8]
        ],
        "profile_table": prof.table(),
    }


# ----- peak memory: each framework alone in a fresh process
def memory_child(framework, steps):
    """Runs in a subprocess: RSS peak (MiB) after imports and model building, and after ``steps``
    steps."""
    _, model, overrides, batch, size, kind = next(c for c in CASES if c[0] == "dcgan28 b128")
    build = scratchgan_step if framework == "scratchgan" else torch_step
    step = build(model, overrides, batch, size, kind)
    before = peak_rss_mib()
    for _ in range(steps):
        step()
    after = peak_rss_mib()
    print(
        json.dumps(
            {
                "framework": framework,
                "peak_before_steps_mib": round(before, 1),
                "peak_mib": round(after, 1),
                "steps": steps,
            }
        )
    )


def peak_rss_mib():
    """This process's peak resident memory: VmHWM on Linux (ru_maxrss would include the parent's
    peak, which Linux carries across exec), ru_maxrss elsewhere."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_memory(threads, steps=5):
    out = {}
    for framework in ("scratchgan", "torch"):
        cmd = [
            sys.executable,
            os.path.abspath(__file__),
            "--memory-child",
            framework,
            "--threads",
            str(threads),
            "--memory-steps",
            str(steps),
        ]
        res = json.loads(
            subprocess.run(cmd, check=True, capture_output=True, text=True)
            .stdout.strip()
            .splitlines()[-1]
        )
        out[framework] = res
        print(
            f"dcgan28 b128 peak RSS, {framework}: {res['peak_mib']:.0f} MiB "
            f"({res['peak_before_steps_mib']:.0f} MiB before the first step)",
            flush=True,
        )
    s, t = out["scratchgan"], out["torch"]
    out["ratio_peak"] = round(s["peak_mib"] / t["peak_mib"], 3)
    out["ratio_step_growth"] = round(
        (s["peak_mib"] - s["peak_before_steps_mib"])
        / max(t["peak_mib"] - t["peak_before_steps_mib"], 1e-9),
        3,
    )
    return out


def limit_threads(n, torch=True):
    """N threads for NumPy's BLAS and (if ``torch``; importing it costs ~200 MiB) for PyTorch; 0:
    defaults."""
    if not n:
        return
    from threadpoolctl import threadpool_limits

    threadpool_limits(n)
    if torch:
        import torch as _torch

        _torch.set_num_threads(n)


# ----- reports
def write_reports(rows, memory, env, stem, out=RESULTS):
    os.makedirs(out, exist_ok=True)
    cpu = machine.cpu_facts()
    with open(os.path.join(out, stem + ".json"), "w") as f:
        json.dump({"environment": env, "rows": rows, "memory": memory}, f, indent=1)
    lines = [
        f"Training steps on the CPU, {env['date']}, {cpu['cpu_model']} (ISA: {cpu['isa']}), "
        f"{env['cpu_count']} cores, "
        f"{env['threads']} thread(s) each, load average {env['load_average_1_5_15']} before and "
        f"{env.get('load_average_after')} after; numpy {env['numpy']} "
        f"({', '.join(env.get('numpy_blas') or [])}), torch {env.get('torch')}. Medians of "
        "alternating steps after warm-up, float32; ratio = scratchgan / torch (lower is better).",
        "",
        "| case | scratchgan ms | torch ms | ratio | scratchgan images/s | torch images/s | "
        "steps | profiled ops / step | profiled step / median |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['case']} | {r['scratchgan_ms']:.1f} | {r['torch_ms']:.1f} | {r['ratio']:.2f} | "
            f"{r['scratchgan_images_per_s']:.0f} | {r['torch_images_per_s']:.0f} | {r['repeat']} | "
            f"{100 * r['profile_coverage']:.0f}% | {r['profile_overhead']:.2f} |"
        )
    lines += [
        "",
        "Profiled ops / step: after the timing, the same steps run under `sg.profile()`; its "
        "per-op times summed, as a share of those steps' wall time (the rest is Python glue "
        "between ops). Profiled step / median: those steps' time against the unprofiled median "
        "(the profiler's cost, and the machine's noise).",
        "",
        "Where scratchgan's time goes (`sg.profile()`, the eight largest rows per case):",
        "",
    ]
    for r in rows:
        top = ", ".join(
            f"{t['op']} {t['direction']} {t['ms_per_step']:.1f} ms" for t in r["profile_top"]
        )
        lines.append(f"- {r['case']}: {top}")
    if memory:
        s, t = memory["scratchgan"], memory["torch"]
        lines += [
            "",
            "Peak resident memory of a dcgan28 batch-128 training process (each framework alone "
            f"in a fresh process, {s['steps']} steps): scratchgan {s['peak_mib']:.0f} MiB, "
            f"torch {t['peak_mib']:.0f} MiB, ratio {memory['ratio_peak']:.2f}; growth during the "
            f"steps {s['peak_mib'] - s['peak_before_steps_mib']:.0f} MiB vs "
            f"{t['peak_mib'] - t['peak_before_steps_mib']:.0f} MiB "
            f"(ratio {memory['ratio_step_growth']:.2f}).",
        ]
    with open(os.path.join(out, stem + ".md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    fig, ax = plt.subplots(figsize=(7, 0.5 * len(rows) + 1.2))
    names = [r["case"] for r in rows][::-1]
    ratios = [r["ratio"] for r in rows][::-1]
    ax.barh(names, ratios, color=["tab:green" if v <= 1 else "tab:orange" for v in ratios])
    ax.axvline(1.0, color="k", lw=1)
    for y, v in enumerate(ratios):
        ax.text(v, y, f" {v:.2f}", va="center")
    ax.set_xlabel("step time, scratchgan / PyTorch (lower is better)")
    ax.set_title(f"training steps on the CPU, {env['threads']} thread(s) each")
    fig.tight_layout()
    fig.savefig(os.path.join(out, stem + ".png"), dpi=100)
    plt.close(fig)


def main():
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--threads",
        type=int,
        default=0,
        help="limit both frameworks to N threads (0: their defaults)",
    )
    p.add_argument("--filter", default="", help="only cases whose name contains this")
    p.add_argument(
        "--repeat",
        type=int,
        default=0,
        help="timed steps per framework (0: as many as fit --budget)",
    )
    p.add_argument(
        "--budget",
        type=float,
        default=20.0,
        help="seconds per case per framework when --repeat is 0",
    )
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--out", default=RESULTS, help="report directory (default benchmarks/results)")
    p.add_argument(
        "--memory", action="store_true", help="also measure peak memory of dcgan28 b128 training"
    )
    p.add_argument(
        "--profile", action="store_true", help="print scratchgan's full profile table for each case"
    )
    p.add_argument("--memory-child", choices=["scratchgan", "torch"], help=argparse.SUPPRESS)
    p.add_argument("--memory-steps", type=int, default=5, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.memory_child:
        limit_threads(args.threads, torch=args.memory_child == "torch")
        return memory_child(args.memory_child, args.memory_steps)
    import torch  # noqa: F401  (imported before the thread limit so that it applies to torch too)

    limit_threads(args.threads)
    env = environment()
    env["threads"] = args.threads or f"default ({env.get('torch_threads')})"
    rows = [run_case(case, args) for case in CASES if args.filter in case[0]]
    memory = measure_memory(args.threads) if args.memory else None
    env["load_average_after"] = load_average()
    stem = "train-step-cpu" + (f"-threads{args.threads}" if args.threads else "")
    if args.filter:
        stem += "-" + args.filter.replace(" ", "_")
    write_reports(rows, memory, env, stem, args.out)
    print(f"wrote {os.path.join(args.out, stem)}.json/.md/.png")


if __name__ == "__main__":
    main()
