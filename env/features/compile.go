package features

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// ErrUnsupported marks an expression that is valid PromQL but that the simulator
// cannot compute (an unknown metric, a series it does not produce, a construct the
// native evaluator does not implement).
var ErrUnsupported = errors.New("not supported by the simulator")

var mathFns = map[string]func(float64) float64{
	"abs": math.Abs, "ceil": math.Ceil, "floor": math.Floor, "exp": math.Exp,
	"sqrt": math.Sqrt, "ln": math.Log, "log2": math.Log2, "log10": math.Log10,
	"sin": math.Sin, "cos": math.Cos, "tan": math.Tan, "asin": math.Asin,
	"acos": math.Acos, "atan": math.Atan, "sinh": math.Sinh, "cosh": math.Cosh,
	"tanh": math.Tanh, "asinh": math.Asinh, "acosh": math.Acosh, "atanh": math.Atanh,
	"deg": func(v float64) float64 { return v * 180 / math.Pi },
	"rad": func(v float64) float64 { return v * math.Pi / 180 },
	"sgn": func(v float64) float64 {
		switch {
		case v < 0:
			return -1
		case v > 0:
			return 1
		}
		return v
	},
}

// compiler turns one expression's AST into nodes.
type compiler struct {
	expr string
	hist int64 // ms of history the expression reads behind its evaluation time
}

func (c *compiler) errorf(n parser.Node, format string, args ...any) error {
	pos := n.PositionRange().StartPosInput(c.expr, 0)
	return fmt.Errorf("%s: %s: %w", pos, fmt.Sprintf(format, args...), ErrUnsupported)
}

// compileExpr parses expr and compiles it into a native node; hist is the history,
// in ms, the node reads behind its evaluation time.
func compileExpr(expr string) (node, int64, error) {
	if expr == "" {
		return nil, 0, errors.New("expr is empty")
	}
	p := parser.NewParser(parser.Options{})
	ast, err := p.ParseExpr(expr)
	if err != nil {
		return nil, 0, err // ParseErr prints line:col
	}
	c := &compiler{expr: expr}
	n, scalar, err := c.compile(ast, 0)
	if err != nil {
		return nil, 0, err
	}
	_ = scalar
	return n, c.hist, nil
}

func ms(d time.Duration) int64 { return int64(d / time.Millisecond) }

// compile returns the node for e, whether it is a scalar (else a label-free vector of
// at most one sample), given sub, the ms of subquery range and offset enclosing e.
func (c *compiler) compile(e parser.Expr, sub int64) (node, bool, error) {
	switch e := e.(type) {
	case *parser.ParenExpr:
		return c.compile(e.Expr, sub)
	case *parser.NumberLiteral:
		return numNode(e.Val), true, nil
	case *parser.UnaryExpr:
		x, scalar, err := c.compile(e.Expr, sub)
		if err != nil {
			return nil, false, err
		}
		if e.Op == parser.SUB {
			return negNode{x}, scalar, nil
		}
		return x, scalar, nil
	case *parser.BinaryExpr:
		return c.binary(e, sub)
	case *parser.AggregateExpr:
		return c.aggregate(e, sub)
	case *parser.Call:
		return c.call(e, sub)
	case *parser.VectorSelector:
		return nil, false, c.errorf(e, "selector %s must be aggregated (sum, min, max or count) so that it means the same over many instances", e)
	case *parser.MatrixSelector, *parser.SubqueryExpr:
		return nil, false, c.errorf(e, "range vector %s must be an argument of a range function", e)
	case *parser.StringLiteral:
		return nil, false, c.errorf(e, "string %s", e)
	}
	return nil, false, c.errorf(e, "expression %s", e)
}

func (c *compiler) binary(e *parser.BinaryExpr, sub int64) (node, bool, error) {
	switch e.Op {
	case parser.ADD, parser.SUB, parser.MUL, parser.DIV, parser.MOD, parser.POW, parser.ATAN2:
	case parser.EQLC, parser.NEQ, parser.GTR, parser.LSS, parser.GTE, parser.LTE:
		if !e.ReturnBool {
			return nil, false, c.errorf(e, "filtering comparison %q (use the bool modifier)", e.Op)
		}
	default:
		return nil, false, c.errorf(e, "operator %q", e.Op)
	}
	if vm := e.VectorMatching; vm != nil && (vm.Card == parser.CardOneToMany || vm.Card == parser.CardManyToOne) {
		return nil, false, c.errorf(e, "group modifiers")
	}
	l, ls, err := c.compile(e.LHS, sub)
	if err != nil {
		return nil, false, err
	}
	r, rs, err := c.compile(e.RHS, sub)
	if err != nil {
		return nil, false, err
	}
	return &binNode{op: e.Op, l: l, r: r, retBool: e.ReturnBool}, ls && rs, nil
}

func (c *compiler) aggregate(e *parser.AggregateExpr, sub int64) (node, bool, error) {
	switch e.Op {
	case parser.SUM, parser.MIN, parser.MAX, parser.COUNT:
	default:
		return nil, false, c.errorf(e, "aggregation %q", e.Op)
	}
	if e.Without || len(e.Grouping) > 0 {
		return nil, false, c.errorf(e, "grouping (by/without) outside histogram_quantile(q, sum by (le) (...))")
	}
	sel, err := c.seriesSel(e.Expr, sub)
	if err != nil {
		return nil, false, err
	}
	return &aggNode{op: e.Op, sel: sel}, false, nil
}

// seriesSel compiles the argument of an aggregation: a selector, or a range function
// of a range selector.
func (c *compiler) seriesSel(e parser.Expr, sub int64) (*seriesSel, error) {
	for {
		p, ok := e.(*parser.ParenExpr)
		if !ok {
			break
		}
		e = p.Expr
	}
	switch e := e.(type) {
	case *parser.VectorSelector:
		cols, off, err := c.selector(e)
		if err != nil {
			return nil, err
		}
		c.hist = max(c.hist, sub+off+ms(Lookback))
		return &seriesSel{cols: cols, fn: fnNone, offsetMs: off}, nil
	case *parser.Call:
		fn, ok := rangeFns[e.Func.Name]
		if !ok {
			break
		}
		m, ok := e.Args[0].(*parser.MatrixSelector)
		if !ok {
			return nil, c.errorf(e, "%s over a subquery inside an aggregation (aggregate inside the subquery instead)", e.Func.Name)
		}
		vs := m.VectorSelector.(*parser.VectorSelector)
		cols, off, err := c.selector(vs)
		if err != nil {
			return nil, err
		}
		if m.RangeExpr != nil && m.Range == 0 {
			return nil, c.errorf(m, "computed range")
		}
		s := &seriesSel{cols: cols, fn: fn, rangeMs: ms(m.Range), offsetMs: off}
		if fn == fnPredictLinear {
			arg, scalar, err := c.compile(e.Args[1], sub)
			if err != nil {
				return nil, err
			}
			if !scalar {
				return nil, c.errorf(e.Args[1], "predict_linear duration must be a scalar")
			}
			s.arg = arg
		}
		c.hist = max(c.hist, sub+off+s.rangeMs)
		return s, nil
	}
	return nil, c.errorf(e, "aggregation argument %s (use a selector or a range function of one)", e)
}

// selector checks a vector selector and returns the series columns it matches and its
// offset in ms.
func (c *compiler) selector(vs *parser.VectorSelector) ([]int, int64, error) {
	if vs.Timestamp != nil || vs.StartOrEnd != 0 {
		return nil, 0, c.errorf(vs, "@ modifier")
	}
	if vs.Anchored || vs.Smoothed {
		return nil, 0, c.errorf(vs, "anchored/smoothed selector")
	}
	if vs.OriginalOffset < 0 {
		return nil, 0, c.errorf(vs, "negative offset")
	}
	name := vs.Name
	for _, m := range vs.LabelMatchers {
		if m.Name == labels.MetricName && (m.Type != labels.MatchEqual || (name != "" && m.Value != name)) {
			return nil, 0, c.errorf(vs, "metric name matcher %s (name the metric)", m)
		}
		if m.Name == labels.MetricName {
			name = m.Value
		}
	}
	if !slices.Contains(MetricNames(), name) {
		return nil, 0, c.errorf(vs, "unknown metric %q (known: %v)", name, MetricNames())
	}
	cols := matchSeries(vs.LabelMatchers)
	if len(cols) == 0 {
		return nil, 0, c.errorf(vs, "selector %s matches no series the simulator produces", vs)
	}
	return cols, ms(vs.OriginalOffset), nil
}

func (c *compiler) call(e *parser.Call, sub int64) (node, bool, error) {
	name := e.Func.Name
	switch name {
	case "time":
		return timeNode{}, true, nil
	case "pi":
		return numNode(math.Pi), true, nil
	case "vector":
		x, _, err := c.compile(e.Args[0], sub)
		return vectorNode{x}, false, err
	case "scalar":
		x, _, err := c.compile(e.Args[0], sub)
		return scalarNode{x}, true, err
	case "clamp", "clamp_min", "clamp_max":
		x, _, err := c.compile(e.Args[0], sub)
		if err != nil {
			return nil, false, err
		}
		n := &clampNode{x: x}
		a, _, err := c.compile(e.Args[1], sub)
		if err != nil {
			return nil, false, err
		}
		switch name {
		case "clamp":
			n.lo = a
			if n.hi, _, err = c.compile(e.Args[2], sub); err != nil {
				return nil, false, err
			}
		case "clamp_min":
			n.lo = a
		default:
			n.hi = a
		}
		return n, false, nil
	case "histogram_quantile":
		return c.histogramQuantile(e, sub)
	}
	if f, ok := mathFns[name]; ok {
		x, _, err := c.compile(e.Args[0], sub)
		if err != nil {
			return nil, false, err
		}
		return &mathNode{f: f, x: x}, false, nil
	}
	if fn, ok := rangeFns[name]; ok {
		sq, isSub := e.Args[0].(*parser.SubqueryExpr)
		if !isSub {
			return nil, false, c.errorf(e, "%s of a range selector must be aggregated (sum, min, max or count)", name)
		}
		switch fn {
		case fnRate, fnIncrease, fnDelta:
			return nil, false, c.errorf(e, "function %q over a subquery", name)
		}
		if sq.Timestamp != nil || sq.StartOrEnd != 0 {
			return nil, false, c.errorf(sq, "@ modifier")
		}
		if sq.OriginalOffset < 0 {
			return nil, false, c.errorf(sq, "negative offset")
		}
		if sq.Step <= 0 {
			return nil, false, c.errorf(sq, "subquery without an explicit step (the default depends on the engine's evaluation interval)")
		}
		n := &subqueryNode{fn: fn, rangeMs: ms(sq.Range), stepMs: ms(sq.Step), offset: ms(sq.OriginalOffset)}
		x, _, err := c.compile(sq.Expr, sub+n.rangeMs+n.offset)
		if err != nil {
			return nil, false, err
		}
		n.x = x
		if fn == fnPredictLinear {
			arg, scalar, err := c.compile(e.Args[1], sub)
			if err != nil {
				return nil, false, err
			}
			if !scalar {
				return nil, false, c.errorf(e.Args[1], "predict_linear duration must be a scalar")
			}
			n.arg = arg
		}
		return n, false, nil
	}
	return nil, false, c.errorf(e, "function %q", name)
}

// histogramQuantile compiles histogram_quantile(q, sum by (le) (sel)).
func (c *compiler) histogramQuantile(e *parser.Call, sub int64) (node, bool, error) {
	q, scalar, err := c.compile(e.Args[0], sub)
	if err != nil {
		return nil, false, err
	}
	if !scalar {
		return nil, false, c.errorf(e.Args[0], "quantile must be a scalar")
	}
	arg := e.Args[1]
	for {
		p, ok := arg.(*parser.ParenExpr)
		if !ok {
			break
		}
		arg = p.Expr
	}
	agg, ok := arg.(*parser.AggregateExpr)
	if !ok || agg.Op != parser.SUM || agg.Without || len(agg.Grouping) != 1 || agg.Grouping[0] != "le" {
		return nil, false, c.errorf(arg, "histogram_quantile argument must be sum by (le) (...)")
	}
	sel, err := c.seriesSel(agg.Expr, sub)
	if err != nil {
		return nil, false, err
	}
	n := &quantileNode{q: q, sel: sel}
	for _, col := range sel.cols {
		b, ok := bucketBound(col)
		if !ok {
			return nil, false, c.errorf(agg.Expr, "series %s has no le label", series[col].Labels)
		}
		n.bounds = append(n.bounds, b)
	}
	return n, false, nil
}
