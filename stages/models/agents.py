"""Multi-agent reinforcement-learning image classifier (seed 003), after Mousavi et al. 2019, "Multi-Agent Image
Classification via Reinforcement Learning".

N agents walk over each image for T steps. At step t agent i sits at s_i(t) = (row, col), the top-left corner of
its window x window view o_i(t), which always stays inside the canvas. It embeds what it sees, b_i = b(o_i), and
where it is, q_i = q(s_i / (canvas - window)), and it listens: every agent j broadcasts m_j = m(h_j), decoded as
d(m_j), and agent i hears the mean d̄_i of the OTHER agents' decoded messages (all-to-all graph; silence if N = 1).
With u_i = [b_i, q_i, d̄_i] two RNN cells of the same type (GRU or LSTM) update

    h_i(t+1) = f(h_i(t), u_i(t))      belief state: what the agent knows about the image
    ĥ_i(t+1) = f'(ĥ_i(t), u_i(t))     decision state: where to look next

and the policy pi(a | ĥ_i(t+1)) picks one of 4 moves (0 up, 1 down, 2 left, 3 right; clipped at the border).
After T steps every agent votes p_i = softmax(c(h_i(T))) and the system predicts p̄ = mean_i p_i.

MA-REINFORCE (eq. 6 of the paper) maximises r + log p(tau) * r with the reward r = log p̄_y = -CE(p̄, y).
The first term is an ordinary classification loss, differentiable along the belief path: forward returns
log p̄, so F.cross_entropy(forward(x), y) is exactly -r. The moves are discrete, so the policy learns by
REINFORCE: log p(tau) = sum over agents and steps of log pi(a_i(t)), weighted by the detached reward minus its
batch mean (a baseline that cuts the variance without biasing the gradient); auxiliary_loss returns that term.
Train mode samples the moves; eval mode moves greedily, so a trained model's predictions are deterministic. Where
the agents start is the spec's ``start``: ``fixed`` (default: the same layout along the diagonal in training and
evaluation) or ``random`` (the paper's: uniform random starts in training, the fixed layout in evaluation). On the
1,149 training digits random starts learn far slower: test accuracy 0.49 vs 0.84 after the same 30 epochs (GRU,
measured; docs/performance.md, "Multi-agent classifier settings").

Everything is batched over images and agents, shapes (B, N, ...); the only Python loop runs over the T steps.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

MOVES = torch.tensor([[-1, 0], [1, 0], [0, -1], [0, 1]])  # (drow, dcol) of up, down, left, right
CELLS = {"gru": nn.GRUCell, "lstm": nn.LSTMCell}
REQUIRED = ("family", "in_channels", "outputs", "canvas", "agents", "steps", "window", "hidden", "rnn")
OPTIONAL = {"feature": 64, "position": 16, "message": 32, "start": "fixed"}
STARTS = ("fixed", "random")


def step_positions(pos: torch.Tensor, moves: torch.Tensor, canvas: int, window: int) -> torch.Tensor:
    """Apply moves (B, N) in 0..3 to top-left positions (B, N, 2) = (row, col); clip into [0, canvas - window]."""
    return (pos + MOVES.to(pos.device)[moves]).clamp(0, canvas - window)


def extract_patches(images: torch.Tensor, pos: torch.Tensor, window: int) -> torch.Tensor:
    """The window x window patches of images (B, C, H, W) with top-left corners pos (B, N, 2), flattened
    channel-major like images[b, :, r:r+w, c:c+w].flatten(): shape (B, N, C*w*w). One gather, no loops."""
    B, C, H, W = images.shape
    N = pos.shape[1]
    offsets = torch.arange(window, device=images.device)
    rows = pos[..., 0, None] + offsets  # (B, N, w)
    cols = pos[..., 1, None] + offsets
    index = (rows[..., :, None] * W + cols[..., None, :]).reshape(B, 1, N * window * window)  # flat pixel ids
    patches = images.reshape(B, C, H * W).gather(2, index.expand(B, C, -1))  # (B, C, N*w*w)
    return patches.reshape(B, C, N, window * window).transpose(1, 2).reshape(B, N, C * window * window)


def start_positions(batch: int, agents: int, canvas: int, window: int, train: bool, generator=None,
                    device=None) -> torch.Tensor:
    """Start positions (B, N, 2) long. Train: uniform over [0, canvas - window]^2 (drawn on the CPU from
    ``generator``, or the global RNG when None). Eval: the agents evenly spaced along the main diagonal (one agent:
    the centre), the same for every image."""
    span = canvas - window
    if train:
        pos = torch.randint(0, span + 1, (batch, agents, 2), generator=generator)
    else:
        diagonal = torch.tensor([span // 2]) if agents == 1 else torch.linspace(0, span, agents).round().long()
        pos = diagonal[:, None].expand(agents, 2).expand(batch, agents, 2).clone()
    return pos.to(device) if device is not None else pos


def reinforce_loss(log_prob: torch.Tensor, reward: torch.Tensor) -> torch.Tensor:
    """MA-REINFORCE policy term: log_prob (B,) = sum of log pi(a_taken) over agents and steps, reward (B,).
    The advantage is the reward minus its batch mean, detached: -(log_prob * advantage).mean()."""
    advantage = (reward - reward.mean()).detach()
    return -(log_prob * advantage).mean()


class AgentClassifier(nn.Module):
    def __init__(self, in_channels=1, classes=10, canvas=28, agents=3, steps=5, window=6, hidden=64,
                 feature=64, position=16, message=32, rnn="gru", start="fixed"):
        super().__init__()
        if rnn not in CELLS:
            raise ValueError(f"unknown rnn {rnn!r} (known: {', '.join(CELLS)})")
        if not 0 < window <= canvas:
            raise ValueError(f"window {window} must be in 1..canvas ({canvas})")
        if start not in STARTS:
            raise ValueError(f"unknown start {start!r} (known: {', '.join(STARTS)})")
        if agents < 1 or steps < 1:
            raise ValueError(f"need at least one agent and one step (agents={agents}, steps={steps})")
        self.canvas, self.agents, self.steps, self.window, self.start = canvas, agents, steps, window, start
        self.hidden, self.message, self.lstm = hidden, message, rnn == "lstm"
        self.b = nn.Sequential(nn.Linear(in_channels * window * window, feature), nn.ReLU(),
                               nn.Linear(feature, feature), nn.ReLU())  # what the agent sees
        self.q = nn.Sequential(nn.Linear(2, position), nn.ReLU())  # where it is
        self.m = nn.Linear(hidden, message)  # message sent from the belief state
        self.d = nn.Sequential(nn.Linear(message, message), nn.ReLU())  # message decoder
        inputs = feature + position + message
        self.belief = CELLS[rnn](inputs, hidden)  # f
        self.decision = CELLS[rnn](inputs, hidden)  # f'
        self.policy = nn.Linear(hidden, len(MOVES))  # pi
        self.head = nn.Linear(hidden, classes)  # class logits of each agent
        self.log_prob = None  # (B,) log p(tau) of the last train-mode forward

    def _hidden(self, state):
        return state[0] if self.lstm else state

    def _listen(self, h: torch.Tensor) -> torch.Tensor:
        """d̄ (B, N, message): the mean decoded message of the other agents, from belief states h (B, N, hidden)."""
        B, N, _ = h.shape
        if N == 1:
            return h.new_zeros(B, 1, self.message)
        decoded = self.d(self.m(h))
        return (decoded.sum(1, keepdim=True) - decoded) / (N - 1)

    def _run(self, x: torch.Tensor, explore: bool) -> dict:
        """Walk the agents over x. explore: sampled moves (and random starts if start is random), else the fixed
        starts and greedy moves."""
        if x.shape[-2:] != (self.canvas, self.canvas):
            x = F.interpolate(x, size=(self.canvas, self.canvas), mode="bilinear", align_corners=False)
        B, N, H = x.shape[0], self.agents, self.hidden
        pos = start_positions(B, N, self.canvas, self.window, explore and self.start == "random", device=x.device)
        zeros = x.new_zeros(B * N, H)
        belief = decision = (zeros, zeros) if self.lstm else zeros
        scale = max(self.canvas - self.window, 1)
        positions, moves_taken, log_prob = [pos], [], x.new_zeros(B)
        for _ in range(self.steps):
            h = self._hidden(belief)
            u = torch.cat([self.b(extract_patches(x, pos, self.window)).reshape(B * N, -1),
                           self.q(pos.reshape(B * N, 2).float() / scale),
                           self._listen(h.view(B, N, H)).reshape(B * N, -1)], 1)
            belief = self.belief(u, belief)
            decision = self.decision(u, decision)
            logp = self.policy(self._hidden(decision)).log_softmax(-1)  # (B*N, 4)
            if explore:
                moves = torch.multinomial(logp.exp(), 1).squeeze(1)
                log_prob = log_prob + logp.gather(1, moves[:, None]).view(B, N).sum(1)
            else:
                moves = logp.argmax(1)
            pos = step_positions(pos, moves.view(B, N), self.canvas, self.window)
            positions.append(pos)
            moves_taken.append(moves.view(B, N))
        h = self._hidden(belief).view(B, N, H)
        return {"belief": h, "logits": self.head(h), "positions": torch.stack(positions, 1),
                "moves": torch.stack(moves_taken, 1), "log_prob": log_prob if explore else None}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """log p̄ (B, K) = log mean_i softmax(logits_i). Train mode also stores self.log_prob (B,)."""
        run = self._run(x, explore=self.training)
        self.log_prob = run["log_prob"]
        return run["logits"].log_softmax(-1).logsumexp(1) - math.log(self.agents)

    def auxiliary_loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The REINFORCE term for out = forward(x) in train mode (reward -CE(p̄, y)); zero after an eval forward.
        The training loss is CE(out, y) + auxiliary_loss(out, y). Consumes the stored log p(tau): the model keeps no
        autograd graph afterwards (so it can be deep-copied, e.g. for validation)."""
        log_prob, self.log_prob = self.log_prob, None
        if log_prob is None:
            return out.new_zeros(())
        return reinforce_loss(log_prob, -F.cross_entropy(out, y, reduction="none"))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, hidden): the agents' mean final belief state, along the deterministic (eval) trajectory."""
        return self._run(x, explore=False)["belief"].mean(1)

    def trajectory(self, x: torch.Tensor) -> dict:
        """The walk as forward takes it in the current mode: positions (B, T+1, N, 2), moves (B, T, N),
        per-agent class logits (B, N, K), final beliefs (B, N, hidden), log_prob (B,) or None."""
        return self._run(x, explore=self.training)


def build(spec: dict) -> AgentClassifier:
    """Build a fresh model from its spec: {family: agents, in_channels, outputs, canvas, agents, steps, window,
    hidden, rnn} and optionally {feature, position, message, start}."""
    missing = [k for k in REQUIRED if k not in spec]
    unknown = sorted(set(spec) - set(REQUIRED) - set(OPTIONAL))
    if missing or unknown:
        raise ValueError(f"agents model spec: missing keys {missing}, unknown keys {unknown} "
                         f"(required: {', '.join(REQUIRED)}; optional: {', '.join(OPTIONAL)})")
    if spec["family"] != "agents":
        raise ValueError(f"agents model spec: family must be 'agents', got {spec['family']!r}")
    extra = {k: spec.get(k, v) for k, v in OPTIONAL.items()}
    return AgentClassifier(spec["in_channels"], spec["outputs"], spec["canvas"], spec["agents"], spec["steps"],
                           spec["window"], spec["hidden"], rnn=spec["rnn"], **extra)
