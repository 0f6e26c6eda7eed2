package depcheck

import (
	_ "github.com/moby/moby/client"
	_ "github.com/olekukonko/tablewriter"
	_ "github.com/prometheus/client_golang/api/prometheus/v1"
	_ "github.com/prometheus/client_golang/prometheus/promhttp"
	_ "github.com/prometheus/prometheus/promql"
	_ "github.com/prometheus/prometheus/promql/parser"
	_ "github.com/prometheus/prometheus/storage"
	_ "gonum.org/v1/gonum/blas/blas64"
	_ "gonum.org/v1/plot/plotter"
	_ "gonum.org/v1/plot/vg/draw"
	_ "gopkg.in/yaml.v3"
)
