// Package docker is the controller's backend for Docker Compose: it scales one service
// of one Compose project by creating and removing containers through the Docker Engine
// API.
package docker

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"github.com/intelliscale/intelliscale/live"
)

// Compose labels that identify a service's containers.
const (
	labelProject = "com.docker.compose.project"
	labelService = "com.docker.compose.service"
	labelNumber  = "com.docker.compose.container-number"
	labelOneOff  = "com.docker.compose.oneoff"
)

// API is the part of the Docker Engine API the scaler uses; *client.Client is one.
type API interface {
	ContainerList(ctx context.Context, options client.ContainerListOptions) (client.ContainerListResult, error)
	ContainerInspect(ctx context.Context, id string, options client.ContainerInspectOptions) (client.ContainerInspectResult, error)
	ContainerCreate(ctx context.Context, options client.ContainerCreateOptions) (client.ContainerCreateResult, error)
	ContainerStart(ctx context.Context, id string, options client.ContainerStartOptions) (client.ContainerStartResult, error)
	ContainerStop(ctx context.Context, id string, options client.ContainerStopOptions) (client.ContainerStopResult, error)
	ContainerRemove(ctx context.Context, id string, options client.ContainerRemoveOptions) (client.ContainerRemoveResult, error)
	NetworkConnect(ctx context.Context, network string, options client.NetworkConnectOptions) (client.NetworkConnectResult, error)
}

// newClient connects to the engine named by the environment (DOCKER_HOST, or the
// local socket), negotiating the API version down to the engine's.
func newClient() (*client.Client, error) {
	c, err := client.New(client.FromEnv)
	if err != nil {
		return nil, fmt.Errorf("docker client: %w", err)
	}
	return c, nil
}

// Scaler scales one Compose service of one Compose project by creating and
// removing containers through the Engine API. It touches only containers that carry
// both labels; new replicas copy the configuration of a running one, including its
// network aliases, so that the service's DNS name resolves to them.
type Scaler struct {
	api     API
	project string
	service string
	// grace is how long a draining replica may finish its requests before it is killed.
	grace time.Duration
	log   io.Writer
	// closeAPI releases the engine connection (nil: nothing to release).
	closeAPI func() error

	mu       sync.Mutex
	draining map[string]bool
	failures []error // of background drains, since the last Failures call
	wg       sync.WaitGroup
}

// NewScaler returns a scaler for service of project, with drain grace period
// grace.
func NewScaler(api API, project, service string, grace time.Duration, logw io.Writer) (*Scaler, error) {
	if project == "" || service == "" {
		return nil, fmt.Errorf("docker scaler: project %q and service %q must both be set", project, service)
	}
	if logw == nil {
		logw = io.Discard
	}
	return &Scaler{api: api, project: project, service: service, grace: grace, log: logw, draining: map[string]bool{}}, nil
}

// replica is one container of the service.
type replica struct {
	id     string
	name   string
	number int
	state  string // ready, provisioning, draining
	info   container.InspectResponse
}

// owns reports whether labels mark a container of the configured service.
func (s *Scaler) owns(labels map[string]string) bool {
	return labels[labelProject] == s.project && labels[labelService] == s.service && labels[labelOneOff] != "True"
}

// list returns the service's replicas that are not gone, sorted by number, and the
// highest replica number in use by any of its containers (gone ones keep their names).
func (s *Scaler) list(ctx context.Context) ([]replica, int, error) {
	f := make(client.Filters).Add("label", labelProject+"="+s.project, labelService+"="+s.service)
	res, err := s.api.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return nil, 0, fmt.Errorf("list containers of %s/%s: %w", s.project, s.service, err)
	}
	s.mu.Lock()
	draining := maps.Clone(s.draining)
	s.mu.Unlock()
	var out []replica
	maxNum := 0
	for _, c := range res.Items {
		if !s.owns(c.Labels) {
			continue // the filter should have excluded it: never trust, check
		}
		ins, err := s.api.ContainerInspect(ctx, c.ID, client.ContainerInspectOptions{})
		if err != nil {
			if isNotFound(err) {
				continue
			}
			return nil, 0, fmt.Errorf("inspect container %.12s: %w", c.ID, err)
		}
		info := ins.Container
		if info.Config == nil || info.State == nil || !s.owns(info.Config.Labels) {
			continue
		}
		r := replica{id: info.ID, name: strings.TrimPrefix(info.Name, "/"), info: info}
		r.number, _ = strconv.Atoi(info.Config.Labels[labelNumber])
		maxNum = max(maxNum, r.number)
		switch st := info.State.Status; {
		case draining[info.ID] || st == container.StateRemoving:
			r.state = "draining"
		case st == container.StateRunning && (info.State.Health == nil || info.State.Health.Status == container.Healthy):
			r.state = "ready"
		case st == container.StateRunning || st == container.StateCreated || st == container.StateRestarting:
			r.state = "provisioning"
		default:
			continue // exited, dead, paused: not serving
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b replica) int { return a.number - b.number })
	return out, maxNum, nil
}

func isNotFound(err error) bool {
	return err != nil && strings.Contains(strings.ToLower(err.Error()), "no such container")
}

// Replicas implements live.Scaler.
func (s *Scaler) Replicas(ctx context.Context) (live.Replicas, error) {
	rs, _, err := s.list(ctx)
	if err != nil {
		return live.Replicas{}, err
	}
	var r live.Replicas
	for _, x := range rs {
		switch x.state {
		case "ready":
			r.Ready++
		case "provisioning":
			r.Provisioning++
		case "draining":
			r.Draining++
		}
	}
	return r, nil
}

// Scale implements live.Scaler: it starts replicas copied from a running one, or drains the
// surplus, provisioning ones first, then the highest-numbered.
func (s *Scaler) Scale(ctx context.Context, n int) error {
	rs, maxNum, err := s.list(ctx)
	if err != nil {
		return err
	}
	var live []replica
	for _, r := range rs {
		if r.state != "draining" {
			live = append(live, r)
		}
	}
	switch {
	case n > len(live):
		var tmpl *replica
		for i := range rs {
			if rs[i].info.State.Status == container.StateRunning && rs[i].state != "draining" {
				tmpl = &rs[i] // the highest-numbered running one
			}
		}
		if tmpl == nil {
			return fmt.Errorf("scale %s/%s to %d: no running replica to copy", s.project, s.service, n)
		}
		for k := 0; k < n-len(live); k++ {
			maxNum++
			if err := s.start(ctx, tmpl, maxNum); err != nil {
				return err
			}
		}
	case n < len(live):
		victims := slices.Clone(live)
		slices.SortStableFunc(victims, func(a, b replica) int {
			pa, pb := a.state == "provisioning", b.state == "provisioning"
			if pa != pb {
				if pa {
					return -1
				}
				return 1
			}
			return b.number - a.number
		})
		for _, v := range victims[:len(live)-n] {
			if err := s.drain(v); err != nil {
				return err
			}
		}
	}
	return nil
}

// start creates and starts replica number num as a copy of tmpl.
func (s *Scaler) start(ctx context.Context, tmpl *replica, num int) error {
	cfg := *tmpl.info.Config
	cfg.Hostname = ""
	cfg.Labels = maps.Clone(cfg.Labels)
	cfg.Labels[labelNumber] = strconv.Itoa(num)
	if !s.owns(cfg.Labels) {
		return fmt.Errorf("template %s: labels do not name %s/%s", tmpl.name, s.project, s.service)
	}
	var hc *container.HostConfig
	if tmpl.info.HostConfig != nil {
		h := *tmpl.info.HostConfig
		h.PortBindings = nil // published ports cannot be shared by replicas
		hc = &h
	}
	// API versions before 1.44 connect one network at create time: the primary one
	// (the host config's network mode) first, the others after.
	var nets []string
	eps := map[string]*network.EndpointSettings{}
	if tmpl.info.NetworkSettings != nil {
		for name, ep := range tmpl.info.NetworkSettings.Networks {
			nets = append(nets, name)
			var aliases []string
			for _, a := range ep.Aliases {
				if !strings.HasPrefix(tmpl.id, a) && a != tmpl.name {
					aliases = append(aliases, a)
				}
			}
			if !slices.Contains(aliases, s.service) {
				aliases = append(aliases, s.service)
			}
			eps[name] = &network.EndpointSettings{Aliases: aliases}
		}
	}
	slices.Sort(nets)
	primary := ""
	if hc != nil && eps[string(hc.NetworkMode)] != nil {
		primary = string(hc.NetworkMode)
	} else if len(nets) > 0 {
		primary = nets[0]
	}
	var nc *network.NetworkingConfig
	if primary != "" {
		nc = &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{primary: eps[primary]}}
	}
	name := fmt.Sprintf("%s_%s_%d", s.project, s.service, num)
	res, err := s.api.ContainerCreate(ctx, client.ContainerCreateOptions{Name: name, Config: &cfg, HostConfig: hc, NetworkingConfig: nc})
	if err != nil {
		return fmt.Errorf("create %s: %w", name, err)
	}
	for _, n := range nets {
		if n == primary {
			continue
		}
		if _, err := s.api.NetworkConnect(ctx, n, client.NetworkConnectOptions{Container: res.ID, EndpointConfig: eps[n]}); err != nil {
			return fmt.Errorf("connect %s to network %s: %w", name, n, err)
		}
	}
	if _, err := s.api.ContainerStart(ctx, res.ID, client.ContainerStartOptions{}); err != nil {
		// A replica that was created but never started would count as provisioning
		// for ever: the next attempt would see the count reached and start nothing.
		// Remove it, so that a retry creates it afresh.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, rerr := s.api.ContainerRemove(rctx, res.ID, client.ContainerRemoveOptions{Force: true}); rerr != nil && !isNotFound(rerr) {
			return fmt.Errorf("start %s: %w (and removing it: %v)", name, err, rerr)
		}
		return fmt.Errorf("start %s: %w (removed it)", name, err)
	}
	fmt.Fprintf(s.log, "started replica %s (%.12s)\n", name, res.ID)
	return nil
}

// drain stops r in the background with the grace period (the app stops taking work
// and finishes what it has), then removes it.
func (s *Scaler) drain(r replica) error {
	if !s.owns(r.info.Config.Labels) {
		return fmt.Errorf("drain %s: labels do not name %s/%s: refusing", r.name, s.project, s.service)
	}
	s.mu.Lock()
	s.draining[r.id] = true
	s.mu.Unlock()
	fmt.Fprintf(s.log, "draining replica %s (%.12s)\n", r.name, r.id)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer func() {
			s.mu.Lock()
			delete(s.draining, r.id)
			s.mu.Unlock()
		}()
		ctx, cancel := context.WithTimeout(context.Background(), s.grace+30*time.Second)
		defer cancel()
		secs := int(s.grace.Seconds())
		if _, err := s.api.ContainerStop(ctx, r.id, client.ContainerStopOptions{Timeout: &secs}); err != nil && !isNotFound(err) {
			s.fail(fmt.Errorf("stop %s: %w", r.name, err))
			return
		}
		if _, err := s.api.ContainerRemove(ctx, r.id, client.ContainerRemoveOptions{}); err != nil && !isNotFound(err) {
			s.fail(fmt.Errorf("remove %s: %w", r.name, err))
		}
	}()
	return nil
}

func (s *Scaler) fail(err error) {
	fmt.Fprintln(s.log, err)
	s.mu.Lock()
	s.failures = append(s.failures, err)
	s.mu.Unlock()
}

// Failures implements live.BackgroundFailures: the drains that failed since the last
// call.
func (s *Scaler) Failures() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.failures
	s.failures = nil
	return out
}

// Target implements live.Scaler.
func (s *Scaler) Target() string { return "compose " + s.project + "/" + s.service }

// wait waits for drains in progress, at most until ctx is done.
func (s *Scaler) wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return errors.New("drains still in progress")
	}
}

// Close implements live.Scaler: it waits for drains in progress, at most the grace
// period and 5 s, and closes the engine connection.
func (s *Scaler) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), s.grace+5*time.Second)
	defer cancel()
	err := s.wait(ctx)
	if s.closeAPI != nil {
		err = errors.Join(err, s.closeAPI())
	}
	return err
}

// openScaler returns a scaler for service of project and checks that the engine holds
// a container of it, in any state: a misspelt --project or --service would otherwise
// run with zero replicas, proposing to scale up a service that no one can copy. An
// engine that cannot be listed now is left to the control loop, which retries it.
func openScaler(ctx context.Context, api API, project, service string, grace time.Duration, logw io.Writer) (*Scaler, error) {
	s, err := NewScaler(api, project, service, grace, logw)
	if err != nil {
		return nil, err
	}
	f := make(client.Filters).Add("label", labelProject+"="+project, labelService+"="+service)
	res, err := api.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		fmt.Fprintf(s.log, "warning: list containers of %s/%s: %v\n", project, service, err)
		return s, nil
	}
	for _, c := range res.Items {
		if s.owns(c.Labels) {
			return s, nil
		}
	}
	return nil, fmt.Errorf("--project %s --service %s: the engine has no container labelled with that Compose project and service (%s=%s, %s=%s): check both names",
		project, service, labelProject, project, labelService, service)
}

// errProjectRequired is the refusal of a missing --project, by Check and by the open.
var errProjectRequired = errors.New("--project is required: the controller scales only the service of that Compose project")

// Backend is the docker backend of the controller's --backend flag.
func Backend() live.Backend {
	return live.Backend{
		Name:    "docker",
		Summary: "a Docker Compose service, through the Docker Engine API",
		Check: func(fs *flag.FlagSet) error {
			if fs.Lookup("project").Value.String() == "" {
				return errProjectRequired
			}
			if fs.Lookup("service").Value.String() == "" {
				return errors.New("--service is required: the Compose service scaled")
			}
			if g, ok := fs.Lookup("drain-grace").Value.(flag.Getter).Get().(time.Duration); ok && g < 0 {
				return fmt.Errorf("--drain-grace %v: must be >= 0", g)
			}
			return nil
		},
		Flags: func(fs *flag.FlagSet) live.OpenFunc {
			project := fs.String("project", "", "docker: Compose project whose service is scaled (required; containers are checked by label)")
			service := fs.String("service", "app", "docker: Compose service scaled")
			grace := fs.Duration("drain-grace", 10*time.Second, "docker: time a draining replica has to finish its requests")
			return func(ctx context.Context, logw io.Writer, _ time.Duration) (live.Scaler, error) {
				if *project == "" {
					return nil, errProjectRequired
				}
				dc, err := newClient()
				if err != nil {
					return nil, err
				}
				s, err := openScaler(ctx, dc, *project, *service, *grace, logw)
				if err != nil {
					dc.Close()
					return nil, err
				}
				s.closeAPI = dc.Close
				return s, nil
			}
		},
	}
}
