package experiments

import "github.com/intelliscale/intelliscale/experiments/train"

// validationWindows are a training job's validation windows for checkpoint
// selection (train.SelectionConfig), each simulated as its evaluation cell is.
func validationWindows(ws []EvalWindow) []train.ValidationWindow {
	var out []train.ValidationWindow
	for _, w := range ws {
		out = append(out, train.ValidationWindow{Window: w.Window, Whole: w.Trace, Offset: w.Start, Sim: w.Sim})
	}
	return out
}
