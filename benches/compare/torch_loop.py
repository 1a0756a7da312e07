"""The PyTorch training loop the comparison scripts time: shuffled mini-batches, softmax +
cross-entropy, one optimizer step per batch, an optional per-epoch scheduler step."""
import time


def epoch_seconds(model, x, y, batch, epochs, optimizer, schedule=None):
    """Trains `model` on (x, y) for `epochs` epochs; returns the wall seconds of each."""
    import torch

    loss_fn = torch.nn.CrossEntropyLoss()
    n = len(x)
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        order = torch.randperm(n)
        for i in range(0, n, batch):
            rows = order[i:i + batch]
            optimizer.zero_grad(set_to_none=True)
            loss_fn(model(x[rows]), y[rows]).backward()
            optimizer.step()
        if schedule is not None:
            schedule.step()
        times.append(time.perf_counter() - start)
    return times
