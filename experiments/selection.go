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

// selectionCandidates is the number of validation runs checkpoint selection adds to
// a learned policy's training (one per candidate and the oracle's), 0 without
// selection: for the progress display's work estimate.
func selectionCandidates(p *PolicySpec) int {
	var v struct {
		Selection struct {
			Every int `yaml:"every"`
		} `yaml:"selection"`
	}
	if p.Train == nil || p.Train.Params.Decode(&v) != nil || v.Selection.Every <= 0 {
		return 0
	}
	return (p.Train.Steps+v.Selection.Every-1)/v.Selection.Every + 1
}
