package experiments

import (
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"text/template"
)

// JobSpec describes a Kubernetes Indexed Job that runs an experiment's shards.
type JobSpec struct {
	// Name of the Job (a DNS label). Required.
	Name string
	// Image holding the intelliscale binary. Required.
	Image string
	// Config is the experiment config path inside the image. Required.
	Config string
	// Shards is the number of completions, one shard each. Required, >= 1.
	Shards int
	// Parallelism is how many shards run at once. Default Shards.
	Parallelism int
	// Claim is the PersistentVolumeClaim mounted at /results. Default "intelliscale-results".
	Claim string
	// Phase is passed to --phase (all, prepare, evaluate). Default all.
	Phase string
	// CPU is the CPU request and limit per pod, in cores. Default "2".
	CPU string
	// Memory is the memory request and limit per pod. Default "2Gi".
	Memory string
	// Prepared, when set, is a results directory on the volume (for example the merged
	// output of a prepare job) whose tuning and training cells are reused.
	Prepared string
}

var jobTemplate = template.Must(template.New("job").Parse(`# Kubernetes Indexed Job: shard $SHARD_INDEX of {{.Shards}} of experiment {{.Config}}.
# The image's entrypoint must be the intelliscale binary, as in the project's image
# (deploy/Dockerfile, FROM scratch: no shell is needed). The config, and the trace files
# it names, must be readable in the pod: on the results volume, say (--config
# /results/default.yaml). Each pod writes /results/{{.Name}}/shard-<index>; when all
# have succeeded, combine them:
#   intelliscale experiment merge --out /results/{{.Name}}/merged /results/{{.Name}}/shard-*
#   intelliscale report /results/{{.Name}}/merged
apiVersion: batch/v1
kind: Job
metadata:
  name: {{.Name}}
  labels:
    app.kubernetes.io/name: intelliscale
    app.kubernetes.io/component: experiment
spec:
  completionMode: Indexed
  completions: {{.Shards}}
  parallelism: {{.Parallelism}}
  backoffLimitPerIndex: 2
  template:
    metadata:
      labels:
        app.kubernetes.io/name: intelliscale
        app.kubernetes.io/component: experiment
    spec:
      restartPolicy: Never
      containers:
        - name: experiment
          image: {{.Image}}
          args:{{range .Args}}
            - {{.}}{{end}}
          env:
            # $(SHARD_INDEX) in args is expanded by the kubelet from this variable.
            - name: SHARD_INDEX
              valueFrom:
                fieldRef:
                  fieldPath: metadata.annotations['batch.kubernetes.io/job-completion-index']
          resources:
            requests: {cpu: {{.CPU}}, memory: {{.Memory}}}
            limits: {cpu: {{.CPU}}, memory: {{.Memory}}}
          volumeMounts:
            - name: results
              mountPath: /results
      volumes:
        - name: results
          persistentVolumeClaim:
            claimName: {{.Claim}}
`))

// jobArg is one argument of the Job's container as YAML: quoted, with '$' doubled so
// that the kubelet's $(VAR) expansion passes it on as written.
func jobArg(s string) string {
	return strconv.Quote(strings.ReplaceAll(s, "$", "$$"))
}

// jobValue refuses a path that cannot be one argument: empty is handled by the
// caller; a newline or another control character would not survive the manifest.
func jobValue(flag, s string) error {
	for _, r := range s {
		if r < ' ' || r == 0x7f {
			return fmt.Errorf("k8s job: %s %q: holds a control character", flag, s)
		}
	}
	return nil
}

// kubeQuantity is the syntax of a Kubernetes resource quantity: a decimal number
// and an optional SI (k, M, G, m ...) or binary (Ki, Mi, Gi ...) suffix or exponent.
var kubeQuantity = regexp.MustCompile(`^([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+|[numkMGTPE]|[KMGTPE]i)?$`)

// quantity refuses a resource amount the API server would refuse, or zero.
func quantity(flag, s, examples string) error {
	n := 0.0
	if m := kubeQuantity.FindStringSubmatch(s); m != nil {
		n, _ = strconv.ParseFloat(m[1], 64)
	}
	if !(n > 0) {
		return fmt.Errorf("k8s job: %s %q: must be a Kubernetes quantity above zero (%s)", flag, s, examples)
	}
	return nil
}

func dnsLabel(s string) bool {
	if s == "" || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// WriteJob writes the Job manifest for spec.
func WriteJob(w io.Writer, spec JobSpec) error {
	if !dnsLabel(spec.Name) {
		return fmt.Errorf("k8s job: --name %q: must be a DNS label (lower-case letters, digits, '-')", spec.Name)
	}
	if spec.Image == "" || strings.ContainsAny(spec.Image, " \n\"'") {
		return fmt.Errorf("k8s job: --image %q: required, without spaces or quotes", spec.Image)
	}
	if spec.Config == "" {
		return fmt.Errorf("k8s job: --config: required")
	}
	if err := jobValue("--config", spec.Config); err != nil {
		return err
	}
	if err := jobValue("--prepared", spec.Prepared); err != nil {
		return err
	}
	if spec.Shards < 1 {
		return fmt.Errorf("k8s job: --shards %d: must be >= 1", spec.Shards)
	}
	if spec.Parallelism == 0 {
		spec.Parallelism = spec.Shards
	}
	if spec.Parallelism < 1 {
		return fmt.Errorf("k8s job: --parallelism %d: must be >= 1", spec.Parallelism)
	}
	if spec.Claim == "" {
		spec.Claim = "intelliscale-results"
	}
	if !dnsLabel(spec.Claim) {
		return fmt.Errorf("k8s job: --claim %q: must be a DNS label", spec.Claim)
	}
	if spec.Phase == "" {
		spec.Phase = RunAll
	}
	if spec.Phase != RunAll && spec.Phase != RunPrepare && spec.Phase != RunEvaluate {
		return fmt.Errorf("k8s job: --phase %q: must be all, prepare or evaluate", spec.Phase)
	}
	if spec.CPU == "" {
		spec.CPU = "2"
	}
	if spec.Memory == "" {
		spec.Memory = "2Gi"
	}
	if err := quantity("--cpu", spec.CPU, "2, 500m or 1.5"); err != nil {
		return err
	}
	if err := quantity("--memory", spec.Memory, "2Gi, 512Mi or 2G"); err != nil {
		return err
	}
	args := []string{"experiment", "run", "--quiet", "--config", jobArg(spec.Config), "--phase", spec.Phase}
	if spec.Prepared != "" {
		args = append(args, "--prepared", jobArg(spec.Prepared))
	}
	args = append(args, "--shard", fmt.Sprintf("$(SHARD_INDEX)/%d", spec.Shards),
		"--out", "/results/"+spec.Name+"/shard-$(SHARD_INDEX)")
	for i, a := range args {
		if !strings.HasPrefix(a, `"`) {
			args[i] = strconv.Quote(a)
		}
	}
	return jobTemplate.Execute(w, struct {
		JobSpec
		Args []string
	}{JobSpec{Name: spec.Name, Image: spec.Image, Config: spec.Config, Shards: spec.Shards, Parallelism: spec.Parallelism,
		Claim: spec.Claim, Phase: spec.Phase, CPU: strconv.Quote(spec.CPU), Memory: strconv.Quote(spec.Memory), Prepared: spec.Prepared}, args})
}
