package live

import (
	"context"
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

func testBackend(name string, opened *string) Backend {
	return Backend{Name: name, Summary: name + " things", Flags: func(fs *flag.FlagSet) OpenFunc {
		target := fs.String(name+"-target", "", "")
		return func(context.Context, io.Writer, time.Duration) (Scaler, error) {
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
	if _, err := bs.Open(context.Background(), fs, "b", io.Discard, time.Minute); err != nil || opened != "b:y" {
		t.Errorf("open b: %v, opened %q", err, opened)
	}
	_, err := bs.Open(context.Background(), fs, "a", io.Discard, time.Minute)
	if err == nil || !strings.Contains(err.Error(), "--b-target (backend b)") {
		t.Errorf("open a with b's flag set: %v, want it refused naming the flag", err)
	}
	if _, err := bs.Open(context.Background(), fs, "c", io.Discard, time.Minute); err == nil || !strings.Contains(err.Error(), "a, b") {
		t.Errorf("unknown backend: %v", err)
	}
}

// Opening a backend is bounded as each later call to it is: a backend whose open
// waits for an answer that never comes is cut off at the timeout, which it is given
// so that it can name it; the opening used to wait for ever.
func TestBackendSetOpenIsBounded(t *testing.T) {
	var gotTimeout time.Duration
	hanging := Backend{Name: "hang", Summary: "never answers", Flags: func(*flag.FlagSet) OpenFunc {
		return func(ctx context.Context, _ io.Writer, timeout time.Duration) (Scaler, error) {
			gotTimeout = timeout
			<-ctx.Done()
			return nil, ctx.Err()
		}
	}}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	bs := RegisterBackends(fs, hanging)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	// The parent is done only long after the bound: it stops the test should the
	// bound be missing, and tells that case apart.
	parent, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := bs.Open(parent, fs, "hang", io.Discard, 20*time.Millisecond)
	if !errors.Is(err, context.DeadlineExceeded) || parent.Err() != nil {
		t.Errorf("open of a backend that never answers: %v (parent done: %v), want the 20ms bound exceeded", err, parent.Err())
	}
	if gotTimeout != 20*time.Millisecond {
		t.Errorf("backend given timeout %v, want 20ms", gotTimeout)
	}
	if _, err := bs.Open(parent, fs, "hang", io.Discard, 0); err == nil || !strings.Contains(err.Error(), "timeout 0s: must be > 0") {
		t.Errorf("open with no bound: %v, want it refused", err)
	}
}
