package live

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// Backend is a kind of workload the controller can scale, chosen by name (the
// controller's --backend flag). Each backend package (live/docker, live/kubernetes)
// returns one, so that a command knows no backend's flags or wiring.
type Backend struct {
	// Name is the --backend value, for example "docker".
	Name string
	// Summary is a line for the help text.
	Summary string
	// Flags registers the backend's own flags on fs and returns the function that opens
	// the scaler once fs is parsed.
	Flags func(fs *flag.FlagSet) OpenFunc
	// Check, when set, checks the backend's flags on the parsed fs without touching
	// anything (a required flag missing, a value that cannot parse), so that a
	// command can refuse them before it waits for anything.
	Check func(fs *flag.FlagSet) error
}

// OpenFunc opens a backend's scaler: it connects and reads its target. ctx is done
// after timeout, the bound on each call to the scaler (ControllerConfig.ScalerTimeout),
// so that a backend that accepts the connection and never answers is refused at start
// rather than waited for; an OpenFunc names timeout when it runs out. Output of the
// scaler goes to logw.
type OpenFunc func(ctx context.Context, logw io.Writer, timeout time.Duration) (Scaler, error)

// BackendSet holds the backends a command offers, with their flags registered on one
// flag set, and refuses a flag of a backend that was not chosen.
type BackendSet struct {
	backends []Backend
	open     map[string]OpenFunc
	owner    map[string]string // flag name -> backend name
}

// RegisterBackends registers every backend's flags on fs.
func RegisterBackends(fs *flag.FlagSet, backends ...Backend) *BackendSet {
	s := &BackendSet{backends: backends, open: map[string]OpenFunc{}, owner: map[string]string{}}
	for _, b := range backends {
		before := map[string]bool{}
		fs.VisitAll(func(f *flag.Flag) { before[f.Name] = true })
		s.open[b.Name] = b.Flags(fs)
		fs.VisitAll(func(f *flag.Flag) {
			if !before[f.Name] {
				s.owner[f.Name] = b.Name
			}
		})
	}
	return s
}

// Names lists the backends' names.
func (s *BackendSet) Names() []string {
	var out []string
	for _, b := range s.backends {
		out = append(out, b.Name)
	}
	return out
}

// Check checks, once fs is parsed and touching nothing, what Open would refuse
// before opening: an unknown backend name, a flag of another backend, and the
// chosen backend's own Check.
func (s *BackendSet) Check(fs *flag.FlagSet, name string) error {
	if err := s.checkFlags(fs, name); err != nil {
		return err
	}
	for _, b := range s.backends {
		if b.Name == name && b.Check != nil {
			return b.Check(fs)
		}
	}
	return nil
}

// Open opens the scaler of the backend named name, once fs is parsed, within timeout
// (> 0; the controller's ScalerTimeout, as each later call to the scaler). It refuses
// a flag set on the command line that belongs to another backend.
func (s *BackendSet) Open(ctx context.Context, fs *flag.FlagSet, name string, logw io.Writer, timeout time.Duration) (Scaler, error) {
	if err := s.checkFlags(fs, name); err != nil {
		return nil, err
	}
	if timeout <= 0 {
		return nil, fmt.Errorf("backend %s: open timeout %v: must be > 0", name, timeout)
	}
	octx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return s.open[name](octx, logw, timeout)
}

// checkFlags refuses an unknown backend and a flag of another backend.
func (s *BackendSet) checkFlags(fs *flag.FlagSet, name string) error {
	if _, ok := s.open[name]; !ok {
		return fmt.Errorf("--backend %q: want one of %s", name, strings.Join(s.Names(), ", "))
	}
	var foreign []string
	fs.Visit(func(f *flag.Flag) {
		if o, ok := s.owner[f.Name]; ok && o != name {
			foreign = append(foreign, fmt.Sprintf("--%s (backend %s)", f.Name, o))
		}
	})
	if len(foreign) > 0 {
		slices.Sort(foreign)
		return fmt.Errorf("--backend %s: flags of another backend: %s", name, strings.Join(foreign, ", "))
	}
	return nil
}
