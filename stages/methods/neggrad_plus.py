"""NegGrad+ (Kurmanji et al. 2023, the SCRUB paper's strong baseline): fine-tune on what must remain while
ascending the loss on the forget set. Per retain batch a forget batch of the same size is drawn and

    loss = alpha * L(retain batch) - (1 - alpha) * L(forget batch),

with the task's training loss and, on the forget rows, the target the Original learned (the information to
remove). ``alpha`` close to 1 keeps the ascent a small correction (default 0.99)."""
from stages.core.config import Float
from stages.methods import base


class NegGradPlus(base.Method):
    PARAMS = {"alpha": Float(min=0, max=1)}

    def batch_loss(self, net, loss, gen, x=None, out=None):
        xf, yf = self.ctx.batch("forget", gen)
        with self.ctx.autocast():
            out = net(xf).float()
        alpha = self.cfg["alpha"]
        return alpha * loss - (1 - alpha) * self.ctx.task.loss(out, yf)
