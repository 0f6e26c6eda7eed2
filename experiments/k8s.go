package experiments

import (
	"fmt"
	"io"
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

var jobTemplate = template.Must(template.New("job").Parse(`# Kubernetes Indexed Job: shard $JOB_COMPLETION_INDEX of {{.Shards}} of experiment {{.Config}}.
# Each pod writes /results/{{.Name}}/shard-<index>; when all have succeeded, combine them:
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
          command: ["/bin/sh", "-c"]
          args:
            - >-
              exec intelliscale experiment run --quiet
              --config {{.Config}}
              --phase {{.Phase}}{{if .Prepared}}
              --prepared {{.Prepared}}{{end}}
              --shard "${JOB_COMPLETION_INDEX}/{{.Shards}}"
              --out "/results/{{.Name}}/shard-${JOB_COMPLETION_INDEX}"
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
		return fmt.Errorf("k8s job: name %q: must be a DNS label (lower-case letters, digits, '-')", spec.Name)
	}
	if spec.Image == "" || strings.ContainsAny(spec.Image, " \n\"'") {
		return fmt.Errorf("k8s job: image %q: required, without spaces or quotes", spec.Image)
	}
	if spec.Config == "" || strings.ContainsAny(spec.Config, " \n\"'$") {
		return fmt.Errorf("k8s job: config %q: required, without spaces, quotes or '$'", spec.Config)
	}
	if strings.ContainsAny(spec.Prepared, " \n\"'$") {
		return fmt.Errorf("k8s job: prepared %q: without spaces, quotes or '$'", spec.Prepared)
	}
	if spec.Shards < 1 {
		return fmt.Errorf("k8s job: shards %d: must be >= 1", spec.Shards)
	}
	if spec.Parallelism == 0 {
		spec.Parallelism = spec.Shards
	}
	if spec.Parallelism < 1 {
		return fmt.Errorf("k8s job: parallelism %d: must be >= 1", spec.Parallelism)
	}
	if spec.Claim == "" {
		spec.Claim = "intelliscale-results"
	}
	if !dnsLabel(spec.Claim) {
		return fmt.Errorf("k8s job: claim %q: must be a DNS label", spec.Claim)
	}
	if spec.Phase == "" {
		spec.Phase = RunAll
	}
	if spec.Phase != RunAll && spec.Phase != RunPrepare && spec.Phase != RunEvaluate {
		return fmt.Errorf("k8s job: phase %q: must be all, prepare or evaluate", spec.Phase)
	}
	if spec.CPU == "" {
		spec.CPU = "2"
	}
	if spec.Memory == "" {
		spec.Memory = "2Gi"
	}
	spec.CPU = strconv.Quote(spec.CPU)
	spec.Memory = strconv.Quote(spec.Memory)
	return jobTemplate.Execute(w, spec)
}
