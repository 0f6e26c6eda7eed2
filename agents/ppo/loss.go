package ppo

import "math"

// clippedSurrogate is one sample's term of CleanRL's policy loss,
// max(−A·ρ, −A·clip(ρ, 1−ε, 1+ε)), and its derivative with respect to ρ. Like
// torch.max and torch.clamp, the gradient flows through whichever term is larger (both,
// equally, on a tie, which inside the clip range gives the same −A).
func clippedSurrogate(adv, ratio, clip float64) (loss, dRatio float64) {
	clipped := max(1-clip, min(1+clip, ratio))
	l1, l2 := -adv*ratio, -adv*clipped
	if l1 >= l2 {
		return l1, -adv
	}
	return l2, 0 // the clipped term is constant in ρ outside the range
}

// clippedValueLoss is one sample's term of CleanRL's value loss with clip_vloss,
// 0.5·max((v−R)², (V_old + clip(v−V_old, −ε, ε) − R)²), and its derivative in v.
// Without clipping it is 0.5·(v−R)².
func clippedValueLoss(v, oldV, ret, clip float64, clipLoss bool) (loss, dv float64) {
	lu := (v - ret) * (v - ret)
	if !clipLoss {
		return 0.5 * lu, v - ret
	}
	d := v - oldV
	inRange := d >= -clip && d <= clip
	vc := oldV + max(-clip, min(clip, d))
	lc := (vc - ret) * (vc - ret)
	gu := v - ret // 0.5 · d/dv (v−R)²
	gc := 0.0
	if inRange {
		gc = vc - ret
	}
	switch {
	case lu > lc:
		return 0.5 * lu, gu
	case lu < lc:
		return 0.5 * lc, gc
	default:
		return 0.5 * lu, 0.5 * (gu + gc)
	}
}

// meanStd returns the mean and the sample standard deviation (Bessel-corrected, as
// torch.std) of x.
func meanStd(x []float64) (mean, std float64) {
	for _, v := range x {
		mean += v
	}
	mean /= float64(len(x))
	if len(x) < 2 {
		return mean, 0
	}
	var ss float64
	for _, v := range x {
		ss += (v - mean) * (v - mean)
	}
	return mean, math.Sqrt(ss / float64(len(x)-1))
}

// explainedVariance is 1 − Var(y−ŷ)/Var(y), NaN when Var(y) is 0 (CleanRL's diagnostic).
func explainedVariance(pred, y []float64) float64 {
	var my, md float64
	for i := range y {
		my += y[i]
		md += y[i] - pred[i]
	}
	n := float64(len(y))
	my /= n
	md /= n
	var vy, vd float64
	for i := range y {
		a, b := y[i]-my, y[i]-pred[i]-md
		vy += a * a
		vd += b * b
	}
	if vy == 0 {
		return math.NaN()
	}
	return 1 - vd/vy
}
