#!/usr/bin/env python3
"""PyTorch reference for bench/webgpuStep.ts: the same training step in PyTorch fp32, as the ratio to aim at.

torchvision ResNet50 and MobileNetV2 (width 1.0, the bench's DEFAULT_MOBILENET_ALPHA) with the bench's head
(src/backend/models/backbone.ts buildClassifier: global average pooling, Dense(1000, relu), Dropout(0.25),
Dense(7); softmax + categorical cross-entropy = PyTorch's cross_entropy on logits), randomly initialised, trained
on one fixed random batch with the bench's optimizer and Keras' defaults (RMSprop rho 0.9, eps 1e-7; Adam eps 1e-7;
SGD momentum 0.9), lr 1e-3, channels_last. N warm-up steps, then M timed steps (CUDA synchronised). Runs on CUDA
when available, else on the CPU (use a small --size there). Prints one JSON line per model:
  {"model": "resnet50", "imgPerSec": 123.4, "device": "NVIDIA H100 80GB HBM3", ...}

  python3 bench/pytorchStep.py [--models resnet50,mobilenetv2] [--size 224] [--batch 32] [--steps 10] [--warmup 3]
                               [--optimizer rmsprop|adam|sgd] [--device cuda|cpu] [--threads N] [--width 1.0]
                               [--mode train|infer]
--mode infer times the forward pass alone (eval mode, no autograd), as Lesion Lab's feature cache and predict run it.
--threads sets torch.set_num_threads (CPU); --width the MobileNetV2 width multiplier (Keras' alpha).

Differences that remain: torchvision's ResNet50 is v1.5 (stride 2 in the 3×3 conv, Keras' v1 has it in the first
1×1) and its convs have no bias; both are within a few percent of the FLOPs.
Exit status 2 (with one line on stderr) when torch or torchvision is not installed.
"""
import argparse
import json
import sys
import time

CLASSES = 7
HEAD_DENSE_UNITS = 1000
HEAD_DROPOUT_RATE = 0.25
MOBILENET_WIDTH = 1.0
LEARNING_RATE = 1e-3


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--models', default='resnet50,mobilenetv2')
    p.add_argument('--size', type=int, default=224)
    p.add_argument('--batch', type=int, default=32)
    p.add_argument('--steps', type=int, default=10)
    p.add_argument('--warmup', type=int, default=3)
    p.add_argument('--optimizer', default='rmsprop', choices=['rmsprop', 'adam', 'sgd'])
    p.add_argument('--device', default=None, help='cuda or cpu (default: cuda when available)')
    p.add_argument('--threads', type=int, default=None, help='CPU threads (torch.set_num_threads)')
    p.add_argument('--width', type=float, default=MOBILENET_WIDTH, help='MobileNetV2 width multiplier')
    p.add_argument('--mode', default='train', choices=['train', 'infer'])
    return p.parse_args()


def build(torch, nn, torchvision, name, width=MOBILENET_WIDTH):
    """The backbone without its ImageNet classifier, plus the bench's head."""
    if name in ('resnet50', 'resnet152'):
        net = getattr(torchvision.models, name)(weights=None)
        features = net.fc.in_features
        net.fc = nn.Identity()  # torchvision's forward already ends in global average pooling + flatten
    elif name == 'mobilenetv2':
        net = torchvision.models.mobilenet_v2(weights=None, width_mult=width)
        features = net.last_channel
        net.classifier = nn.Identity()  # likewise: adaptive_avg_pool2d + flatten before the classifier
    else:
        raise SystemExit(f'unknown model {name!r}: use resnet50, resnet152 or mobilenetv2')
    head = nn.Sequential(
        nn.Linear(features, HEAD_DENSE_UNITS),
        nn.ReLU(inplace=True),
        nn.Dropout(HEAD_DROPOUT_RATE),
        nn.Linear(HEAD_DENSE_UNITS, CLASSES),
    )
    return nn.Sequential(net, head)


def make_optimizer(torch, params, name):
    if name == 'rmsprop':
        return torch.optim.RMSprop(params, lr=LEARNING_RATE, alpha=0.9, eps=1e-7, momentum=0.0)
    if name == 'adam':
        return torch.optim.Adam(params, lr=LEARNING_RATE, betas=(0.9, 0.999), eps=1e-7)
    return torch.optim.SGD(params, lr=LEARNING_RATE, momentum=0.9)


def device_name(torch, device):
    if device.type == 'cuda':
        return torch.cuda.get_device_name(device)
    return f'CPU ({torch.get_num_threads()} threads)'


def measure(torch, nn, torchvision, name, args, device):
    torch.manual_seed(7)
    model = build(torch, nn, torchvision, name, args.width).to(device=device, memory_format=torch.channels_last)
    model.train(args.mode == 'train')
    optimizer = make_optimizer(torch, model.parameters(), args.optimizer)
    x = torch.randn(args.batch, 3, args.size, args.size, device=device).contiguous(memory_format=torch.channels_last)
    y = torch.arange(args.batch, device=device) % CLASSES
    loss_fn = nn.CrossEntropyLoss()

    def sync():
        if device.type == 'cuda':
            torch.cuda.synchronize(device)

    def train_step():
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        return loss

    def infer_step():
        with torch.no_grad():
            return model(x).sum()

    step = train_step if args.mode == 'train' else infer_step

    for _ in range(args.warmup):
        step()
    sync()
    t0 = time.perf_counter()
    c0 = time.process_time()
    for _ in range(args.steps):
        loss = step()
    sync()
    seconds = time.perf_counter() - t0
    cpu_seconds = time.process_time() - c0
    if not torch.isfinite(loss).item():
        raise SystemExit(f'{name}: the loss is not finite')
    return {
        'model': name,
        'imgPerSec': args.batch * args.steps / seconds,
        'stepMs': 1000 * seconds / args.steps,
        # Process CPU time (all threads) per image: on a shared machine, what the work cost whatever the load.
        'cpuMsPerImage': 1000 * cpu_seconds / (args.batch * args.steps),
        'device': device_name(torch, device),
        'size': args.size,
        'batch': args.batch,
        'optimizer': args.optimizer,
        'mode': args.mode,
        'threads': torch.get_num_threads(),
        'width': args.width if name == 'mobilenetv2' else None,
        'torch': torch.__version__,
    }


def main():
    args = parse_args()
    if args.steps < 1 or args.batch < 1 or args.size < 32:
        raise SystemExit('--steps and --batch must be at least 1 and --size at least 32')
    try:
        import torch
        import torch.nn as nn
        import torchvision
    except ImportError as e:
        print(f'PyTorch is not installed for {sys.executable} ({e}): pip install torch torchvision', file=sys.stderr)
        sys.exit(2)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device or ('cuda' if torch.cuda.is_available() else 'cpu'))
    if device.type == 'cuda':
        # fp32 as the webgpu engine computes: no TF32 matmuls or convolutions.
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cudnn.benchmark = True
    for name in args.models.split(','):
        print(json.dumps(measure(torch, nn, torchvision, name.strip(), args, device)), flush=True)


if __name__ == '__main__':
    main()
