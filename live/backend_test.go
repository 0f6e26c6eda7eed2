package live

import (
	"context"
	"flag"
	"io"
	"strings"
	"testing"
)

func testBackend(name string, opened *string) Backend {
	return Backend{Name: name, Summary: name + " things", Flags: func(fs *flag.FlagSet) func(context.Context, io.Writer) (Scaler, error) {
		target := fs.String(name+"-target", "", "")
		return func(context.Context, io.Writer) (Scaler, error) {
			*opened = name + ":" + *target
			return &fakeScaler{}, nil
		}
	}}
}

func TestBackendSetOpensTheChosenOneAndRefusesForeignFlags(t *testing.T) {
	var opened string
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.String("common", "", "")
	bs := RegisterBackends(fs, testBackend("a", &opened), testBackend("b", &opened))
	if strings.Join(bs.Names(), ",") != "a,b" {
		t.Errorf("names %v", bs.Names())
	}
	if err := fs.Parse([]string{"--common=x", "--b-target=y"}); err != nil {
		t.Fatal(err)
	}
	if _, err := bs.Open(context.Background(), fs, "b", io.Discard); err != nil || opened != "b:y" {
		t.Errorf("open b: %v, opened %q", err, opened)
	}
	_, err := bs.Open(context.Background(), fs, "a", io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--b-target (backend b)") {
		t.Errorf("open a with b's flag set: %v, want it refused naming the flag", err)
	}
	if _, err := bs.Open(context.Background(), fs, "c", io.Discard); err == nil || !strings.Contains(err.Error(), "a, b") {
		t.Errorf("unknown backend: %v", err)
	}
}
