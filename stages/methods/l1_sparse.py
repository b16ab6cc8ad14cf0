"""l1-sparse (Jia et al. 2023, "Model sparsity can simplify machine unlearning"; OPTML-Group/Unlearn-Sparse
``unlearn/FT.py::FT_l1``): the fine-tune on what must remain with an l1 penalty on every parameter,

    loss = L(retain batch) + alpha_e * ||theta||_1,    alpha_e = alpha * (1 - e / E)  (epoch e = 0 .. E-1),

the penalty decaying linearly over the run's E epochs (the authors' schedule: alpha in the first epoch, alpha / E in
the last). The sparsity prior pulls the weights that the retain data do not hold up towards zero, the forget set's
traces among them. L is the task's loss (cross-entropy; MSE or MAE on LTD and UTKFace: nothing to replace). Cost: the
fine-tune's (the penalty is a sum over the weights, no images)."""
import torch

from stages.core.config import Float
from stages.methods import base


def l1_norm(model: torch.nn.Module) -> torch.Tensor:
    """||theta||_1 over every parameter of ``model`` (the authors' ``l1_regularization``: weights, biases, BatchNorm)."""
    return sum(p.abs().sum() for p in model.parameters())


def decayed_alpha(alpha: float, epoch: int, epochs: int) -> float:
    """alpha * (1 - epoch / epochs) for epoch 0 .. epochs - 1."""
    return alpha * (1 - epoch / epochs)


ALPHA = Float(min=0)


class L1Sparse(base.Method):
    PARAMS = {"alpha": base.PerTask(ALPHA)}   # one value, or {task: value}

    @classmethod
    def check_task(cls, cfg, task):
        base.task_value(cfg, "l1_sparse", "alpha", task, ALPHA)

    def fit(self, model, seed, log=None, recipe=None):
        self.alpha = base.task_value(self.cfg, "l1_sparse", "alpha", self.ctx.task.name, ALPHA)
        self.epochs = (recipe or self.ctx.recipe).epochs
        return super().fit(model, seed, log, recipe)

    def epoch_start(self, epoch, net, opt, gen):
        self.alpha_e = decayed_alpha(self.alpha, epoch - 1, self.epochs)
        return 0

    def batch_loss(self, net, loss, gen, x=None, out=None):
        return loss + self.alpha_e * l1_norm(net)
