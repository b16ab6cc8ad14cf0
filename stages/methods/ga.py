"""GA, gradient ascent on the forget set (the field's simplest baseline; OPTML-Group/Unlearn-Sparse and
Unlearn-Saliency ``unlearn/GA.py``, Jia et al. 2023): train on the forget rows only, minimising minus the task loss
with the target the Original learned on them. Classifiers: -cross-entropy, as published. LTD and UTKFace: minus the
task's own regression loss (MSE, MAE) takes the place of -cross-entropy: each prediction is pushed away from the count
that includes the forgotten class (LTD) or from the forgotten group's true ages (UTKFace).

The ascent is unbounded and diverges if it runs long: a small learning rate (``lr_scale`` times the recipe's) and few
epochs (``epochs``), as the authors' 5 epochs at lr 1e-4 beside their fine-tune's 10 at 1e-2. Model selection as every
method's: the best validation epoch (retain rows of the validation split) is kept. Cost: the forget rows once per
epoch (no retain data)."""
from dataclasses import replace

from stages.core.config import Float
from stages.methods import base


LR_SCALE = Float(min=0, min_open=True)


class GradientAscent(base.Method):
    PARAMS = {"lr_scale": base.PerTask(LR_SCALE)}   # one factor, or {task: factor}
    data = "forget"

    @classmethod
    def check_task(cls, cfg, task):
        base.task_value(cfg, "ga", "lr_scale", task, LR_SCALE)

    def batch_loss(self, net, loss, gen, x=None, out=None):
        return -loss

    def fit(self, model, seed, log=None, recipe=None):
        recipe = recipe or self.ctx.recipe
        scale = base.task_value(self.cfg, "ga", "lr_scale", self.ctx.task.name, LR_SCALE)
        return super().fit(model, seed, log, replace(recipe, lr=recipe.lr * scale))
