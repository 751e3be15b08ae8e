"""One-seed probe of how fast SmallCNN with MSE collapses on the balanced Fashion-MNIST subset (500/class).

The collapse experiment's default setting (seed-0 subset, SmallCNN, half summed squared error, SGD lr 0.05,
momentum 0.9, weight decay 5e-4, batch 128, lr x 0.1 at 1/3 and 2/3 of EPOCHS), one thread, global data order.
Run from the repository root: python docs/results/collapse/measure_fashion_mse.py 300 mse 0.05
Prints: epoch, seconds, train accuracy, train NC1, centred sample-pairing train MIR (and the all-zero rows).
"""
import sys, time, torch
from interplay.data import load_dataset
from interplay.models import build_model
from interplay.functional import neural_collapse, interplay_metrics
torch.set_num_threads(1)
epochs = int(sys.argv[1]); loss_name = sys.argv[2]; lr = float(sys.argv[3])
d = __import__("os").environ["INTERPLAY_DATA_DIR"]
tr = load_dataset("fashion-mnist", data_dir=d, split="train")
g = torch.Generator().manual_seed(0)
order = torch.randperm(len(tr.labels), generator=g)
idx = torch.cat([order[tr.labels[order] == c][:500] for c in range(10)])
x = tr.images[idx]; y = tr.labels[idx]
m, s = x.mean(), x.std(); x = (x - m) / s
torch.manual_seed(0)
model = build_model("cnn", (1, 28, 28), 10)
opt = torch.optim.SGD(model.parameters(), lr, momentum=0.9, weight_decay=5e-4)
sched = torch.optim.lr_scheduler.MultiStepLR(opt, [epochs // 3, 2 * epochs // 3], 0.1)
t0 = time.time()
for ep in range(1, epochs + 1):
    model.train()
    perm = torch.randperm(len(y))
    for b in range(0, len(y), 128):
        i = perm[b:b+128]
        out = model(x[i])
        if loss_name == "mse":
            loss = 0.5 * ((out - torch.nn.functional.one_hot(y[i], 10).float()) ** 2).sum(1).mean()
        else:
            loss = torch.nn.functional.cross_entropy(out, y[i])
        opt.zero_grad(); loss.backward(); opt.step()
    sched.step()
    if ep % 10 == 0 or ep == epochs:
        model.eval()
        with torch.no_grad():
            f = model.features(x); acc = float((model.head(f).argmax(1) == y).float().mean())
            nc = neural_collapse(f, y, model.head.weight)
            mi = interplay_metrics(f - f.mean(0), y, model.head.weight); print("zero", int((f.abs().sum(1)==0).sum()))
        print(ep, round(time.time() - t0), acc, float(nc.nc1), float(mi.mir), flush=True)
