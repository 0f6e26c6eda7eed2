package nn

import "math"

// MSELoss returns the mean squared error (1/n) Σ (pred_i − target_i)², like
// torch.nn.functional.mse_loss, and writes its gradient with respect to pred into grad
// (nil to skip).
func MSELoss(grad, pred, target []float64) float64 {
	n := float64(len(pred))
	var s float64
	for i, p := range pred {
		d := p - target[i]
		s += d * d
		if grad != nil {
			grad[i] = 2 * d / n
		}
	}
	return s / n
}

// HuberLoss returns the mean Huber loss with threshold delta, like
// torch.nn.functional.huber_loss: per element ½d² when |d| <= delta, else
// delta·(|d| − ½delta), with d = pred − target. With delta 1 it equals smooth_l1_loss,
// the loss of the original DQN. It writes the gradient with respect to pred into grad
// (nil to skip): d/n clipped to [−delta/n, delta/n].
func HuberLoss(grad, pred, target []float64, delta float64) float64 {
	n := float64(len(pred))
	var s float64
	for i, p := range pred {
		d := p - target[i]
		ad := math.Abs(d)
		g := d
		if ad <= delta {
			s += 0.5 * d * d
		} else {
			s += delta * (ad - 0.5*delta)
			g = math.Copysign(delta, d)
		}
		if grad != nil {
			grad[i] = g / n
		}
	}
	return s / n
}
