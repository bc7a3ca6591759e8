"""The stacked-ae recipe of Hands-On ML ch. 17 in PyTorch: the reference for `scratchgan train
stacked-ae`.

Same data, split, architecture, initialisation and optimiser as scratchgan's recipe
(scratchgan/models/autoencoders.py, StackedAE):
    Fashion-MNIST scaled to [0, 1]; train = the first 55,000 training images, valid = the last 5,000
    encoder Flatten, Linear 784-100 SELU, Linear 100-30 SELU;
    decoder Linear 30-100 SELU, Linear 100-784 sigmoid
    Keras initialisation: xavier (glorot) uniform weights, zero biases
    binary cross-entropy (mean over pixels), SGD lr 1.5, batch 32, shuffled each epoch,
    last small batch kept
Prints and writes (JSON) the train and validation BCE of every epoch and the wall time.

Usage:

    python benchmarks/reference/stacked_ae_torch.py [--epochs 10] [--seed 0] [--threads 1]
                                                    [--out FILE.json]
"""

import argparse
import json
import time

import torch

import scratchgan.data as sgdata

VALID = 5000


def build():
    encoder = torch.nn.Sequential(
        torch.nn.Flatten(),
        torch.nn.Linear(784, 100),
        torch.nn.SELU(),
        torch.nn.Linear(100, 30),
        torch.nn.SELU(),
    )
    decoder = torch.nn.Sequential(
        torch.nn.Linear(30, 100),
        torch.nn.SELU(),
        torch.nn.Linear(100, 784),
        torch.nn.Sigmoid(),
        torch.nn.Unflatten(1, (1, 28, 28)),
    )
    model = torch.nn.Sequential(encoder, decoder)
    for m in model.modules():
        if isinstance(m, torch.nn.Linear):
            torch.nn.init.xavier_uniform_(m.weight)
            torch.nn.init.zeros_(m.bias)
    return model


def valid_bce(model, x):
    with torch.no_grad():
        total = sum(
            torch.nn.functional.binary_cross_entropy(model(c), c, reduction="sum").item()
            for c in torch.split(x, 1000)
        )
    return total / x.numel()


def main():
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=1.5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", help="write the figures to this JSON file")
    args = p.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    images, _ = sgdata.load("fashion-mnist", "train")
    x = torch.from_numpy(sgdata.to_float(images))
    train, valid = x[:-VALID], x[-VALID:]
    model = build()
    opt = torch.optim.SGD(model.parameters(), lr=args.lr)
    shuffle = torch.Generator().manual_seed(args.seed)
    rows, train_time = [], 0.0
    for epoch in range(1, args.epochs + 1):
        t0 = time.perf_counter()
        order, total, batches = torch.randperm(len(train), generator=shuffle), 0.0, 0
        for i in range(0, len(train), args.batch_size):
            xb = train[order[i : i + args.batch_size]]
            opt.zero_grad()
            loss = torch.nn.functional.binary_cross_entropy(model(xb), xb)
            loss.backward()
            opt.step()
            total, batches = total + loss.item(), batches + 1
        dt = time.perf_counter() - t0
        train_time += dt
        rows.append(
            {
                "epoch": epoch,
                "train_bce": total / batches,
                "valid_bce": valid_bce(model, valid),
                "epoch_time_s": round(dt, 3),
                "images_per_s": round(len(train) / dt, 1),
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    result = {
        "framework": f"torch {torch.__version__}",
        "threads": args.threads,
        "epochs": args.epochs,
        "seed": args.seed,
        "train_time_s": round(train_time, 3),
        "final_valid_bce": rows[-1]["valid_bce"],
        "history": rows,
    }
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=2)
    print(json.dumps({k: v for k, v in result.items() if k != "history"}))


if __name__ == "__main__":
    main()
