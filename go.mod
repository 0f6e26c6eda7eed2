module github.com/intelliscale/intelliscale

go 1.26.8
