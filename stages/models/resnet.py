"""Regression ResNets (torchvision) with a configurable number of input channels, and ensembles of them.

Every model maps a normalised batch (B, C, H, W) to one scalar per image, shape (B,).
The head is ``linear`` (plain Linear(features -> 1), the counting paper) or ``sigmoid``
(``target_max * sigmoid(Linear(...))``, the thesis' age head scaled to the age range).
"""
from __future__ import annotations

import torch
from torch import nn

# resnet10 is torchvision's ResNet with one BasicBlock per stage: the quick CPU profile's network.
ARCHS = ("resnet10", "resnet18", "resnet34", "resnet50")
BLOCKS = {"resnet10": [1, 1, 1, 1], "resnet18": [2, 2, 2, 2], "resnet34": [3, 4, 6, 3]}  # BasicBlock stages
STEMS = ("imagenet", "small")


def torchvision_resnet():
    """torchvision's resnet module, imported on first use: importing torchvision costs ~2 s of every stage's start-up
    (its ops import torch._dynamo), which the stages that never build a ResNet (the multi-agent track's) skip."""
    from torchvision.models import resnet

    return resnet


def trunk(arch: str, stem: str = "imagenet", width: int = 64) -> nn.Module:
    """A torchvision ResNet. ``stem``: ``imagenet`` (7x7 stride-2 conv and a stride-2 max-pool: total stride 32) or
    ``small`` (3x3 stride-1 conv, no max-pool: total stride 8, so ``layer4`` keeps a 9x12 grid of a 72x96 input,
    6x6 of a 48x48 face, fine enough for SIDU to localise a person). ``width``: channels of layer1 (64 in
    torchvision; layers 2-4 double it each), the same torchvision BasicBlocks built by ResNet._make_layer."""
    if arch not in ARCHS:
        raise ValueError(f"unknown arch {arch!r} (known: {', '.join(ARCHS)})")
    if stem not in STEMS:
        raise ValueError(f"unknown stem {stem!r} (known: {', '.join(STEMS)})")
    tv = torchvision_resnet()
    if stem == "imagenet" and width == 64:
        return tv.ResNet(tv.BasicBlock, BLOCKS[arch]) if arch == "resnet10" else getattr(tv, arch)()
    if arch not in BLOCKS:
        raise ValueError(f"arch {arch!r} supports only stem imagenet and width 64 (small stems and other widths: "
                         f"{', '.join(BLOCKS)})")
    layers = BLOCKS[arch]
    net = tv.ResNet(tv.BasicBlock, layers)
    net.inplanes, net.dilation = width, 1
    if stem == "small":
        net.conv1 = nn.Conv2d(3, width, 3, 1, 1, bias=False)
        net.maxpool = nn.Identity()
    else:
        net.conv1 = nn.Conv2d(3, width, 7, 2, 3, bias=False)
    net.bn1 = nn.BatchNorm2d(width)
    net.layer1 = net._make_layer(tv.BasicBlock, width, layers[0])
    net.layer2 = net._make_layer(tv.BasicBlock, 2 * width, layers[1], stride=2)
    net.layer3 = net._make_layer(tv.BasicBlock, 4 * width, layers[2], stride=2)
    net.layer4 = net._make_layer(tv.BasicBlock, 8 * width, layers[3], stride=2)
    net.fc = nn.Linear(8 * width, 1000)
    for m in net.modules():  # torchvision's initialisation
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.constant_(m.weight, 1)
            nn.init.constant_(m.bias, 0)
    return net


class Regressor(nn.Module):
    """A torchvision ResNet trunk (``conv1`` .. ``layer4``, global pool) and a one-output head."""

    def __init__(self, arch: str, in_channels: int, head: str = "linear", target_max: float = 1.0, outputs: int = 1,
                 stem: str = "imagenet", width: int = 64):
        super().__init__()
        if head not in ("linear", "sigmoid"):
            raise ValueError(f"unknown head {head!r}: linear | sigmoid")
        net = trunk(arch, stem, width)
        if in_channels != 3:
            old = net.conv1
            net.conv1 = nn.Conv2d(in_channels, old.out_channels, old.kernel_size, old.stride, old.padding, bias=False)
            nn.init.kaiming_normal_(net.conv1.weight, mode="fan_out", nonlinearity="relu")
        net.fc = nn.Linear(net.fc.in_features, outputs)
        self.outputs = outputs
        self.net = net
        self.head = head
        self.register_buffer("target_max", torch.tensor(float(target_max)))

    # Expose the torchvision stages so explainers can say ``model.layer4``.
    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            net = super().__getattr__("net")
            if name.startswith("layer") or name in ("conv1", "bn1", "fc"):
                return getattr(net, name)
            raise

    @torch.no_grad()
    def init_output(self, mean: float) -> None:
        """Start the head at the training targets' mean (bias only): regression from scratch converges faster."""
        if self.head == "sigmoid":
            p = min(max(mean / float(self.target_max), 1e-3), 1 - 1e-3)
            self.net.fc.bias.fill_(float(torch.logit(torch.tensor(p))))
        else:
            self.net.fc.bias.fill_(mean)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The penultimate features (global-pooled ``layer4``, the head's input), shape (B, features)."""
        n = self.net
        x = n.maxpool(n.relu(n.bn1(n.conv1(x))))
        x = n.layer4(n.layer3(n.layer2(n.layer1(x))))
        return torch.flatten(n.avgpool(x), 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.net(x)
        if self.outputs == 1:
            out = out.squeeze(1)
        if self.head == "sigmoid":
            out = self.target_max * torch.sigmoid(out)
        return out


class Ensemble(nn.Module):
    """Average of the members' predictions (the thesis trains 3 models and averages them)."""

    def __init__(self, members: list[nn.Module]):
        super().__init__()
        self.members = nn.ModuleList(members)

    def forward(self, x):
        if len(self.members) == 1:
            return self.members[0](x)
        return torch.stack([m(x) for m in self.members]).mean(0)

    def features(self, x):
        """The members' penultimate features side by side, shape (B, members x features)."""
        return torch.cat([m.features(x) for m in self.members], 1)


def build(spec: dict) -> Regressor:
    """Build a fresh model from its spec: {arch, in_channels, head, target_max, outputs, stem, width}."""
    return Regressor(spec["arch"], spec["in_channels"], spec.get("head", "linear"), spec.get("target_max", 1.0),
                     spec.get("outputs", 1), spec.get("stem", "imagenet"), spec.get("width", 64))


def save_checkpoint(path, spec: dict, runs: list[list[nn.Module]], meta: dict) -> None:
    """One file per model: the spec, then per repeat (independent training run) the members' state dicts."""
    from stages.core.io import save_torch

    states = [[{k: v.detach().cpu() for k, v in m.state_dict().items()} for m in members] for members in runs]
    save_torch(path, {"spec": spec, "runs": states, "meta": meta})


def load_checkpoint(path, device="cpu", repeats: int | None = None) -> tuple[list[Ensemble], dict]:
    """Load ``models/<task>/<name>.pt``: one ensemble (eval mode) per repeat, and the raw checkpoint (any model
    family: :func:`stages.models.build`). ``repeats``, if given, is the number of runs the caller needs (the
    ``repeats`` param): a checkpoint with another count stops it, naming the file."""
    from stages import models

    ckpt = torch.load(path, map_location="cpu", weights_only=False)
    if "runs" not in ckpt:
        raise ValueError(f"{path}: not a checkpoint of this pipeline (no 'runs'; written by an older version?)")
    if repeats is not None and len(ckpt["runs"]) != repeats:
        raise ValueError(f"{path}: {len(ckpt['runs'])} repeats, but repeats is {repeats} (rerun the train stage)")
    runs = []
    for states in ckpt["runs"]:
        members = []
        for state in states:
            m = models.build(ckpt["spec"])
            m.load_state_dict(state)
            members.append(m)
        runs.append(Ensemble(members).to(device).eval())
    return runs, ckpt


def load_weights(model: nn.Module, path: str) -> None:
    """Optional ``weights`` param: a local state dict (of a Regressor, or of a bare torchvision ResNet)."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    target = model if any(k.startswith("net.") for k in state) else model.net
    missing, unexpected = target.load_state_dict(state, strict=False)
    if unexpected:
        raise ValueError(f"{path}: unexpected keys in weights file, e.g. {unexpected[:3]}")
