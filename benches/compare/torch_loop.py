"""The PyTorch training loop the comparison scripts time: shuffled mini-batches, softmax +
cross-entropy (or the loss the caller passes), one optimizer step per batch (after global
gradient-norm clipping if asked), an optional per-epoch scheduler step."""
import time


def epoch_seconds(model, x, y, batch, epochs, optimizer, schedule=None, loss_fn=None,
                  clip_norm=None):
    """Trains `model` on (x, y) for `epochs` epochs; returns the wall seconds of each.

    `loss_fn(output, target)` defaults to `torch.nn.CrossEntropyLoss()`; with `clip_norm`
    the gradients are clipped by `torch.nn.utils.clip_grad_norm_` before each step."""
    import torch

    if loss_fn is None:
        loss_fn = torch.nn.CrossEntropyLoss()
    params = [p for p in model.parameters() if p.requires_grad]
    n = len(x)
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        order = torch.randperm(n)
        for i in range(0, n, batch):
            rows = order[i:i + batch]
            optimizer.zero_grad(set_to_none=True)
            loss_fn(model(x[rows]), y[rows]).backward()
            if clip_norm is not None:
                torch.nn.utils.clip_grad_norm_(params, clip_norm)
            optimizer.step()
        if schedule is not None:
            schedule.step()
        times.append(time.perf_counter() - start)
    return times
