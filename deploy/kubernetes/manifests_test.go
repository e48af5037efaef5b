// The manifests of a sharded night (this directory) and the pod template of
// the sharded Airflow DAG (../airflow/creditrun-pod.yaml), decoded strictly
// into the Kubernetes API types and checked against the rules the API server
// applies to what they use and against creditrun's command line and exit
// codes.
package kubernetes

import (
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/creditrun/creditrun/policy"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// creditrun's exit codes: the table of cmd/creditrun/main.go (exitOK ...
// exitTemporary). They are not exported, so they are listed here, and
// TestExitCodesAreMain's compares this list with main.go's source.
const (
	exitOK        = 0
	exitFailed    = 1
	exitUsage     = 2
	exitRejected  = 3
	exitBehind    = 4
	exitTemporary = 75
)

var exitCodes = map[string]int32{
	"exitOK": exitOK, "exitFailed": exitFailed, "exitUsage": exitUsage,
	"exitRejected": exitRejected, "exitBehind": exitBehind, "exitTemporary": exitTemporary,
}

// permanentExits are the codes a retry cannot fix.
var permanentExits = []int32{exitFailed, exitUsage, exitRejected, exitBehind}

// The flags a manifest may give each subcommand: the command line of
// sharded nights, and nothing else.
var allowedFlags = map[string][]string{
	"run":      {"--as-of", "--events", "--out", "--policy", "--shards", "--shard"},
	"backfill": {"--from", "--to", "--events", "--out", "--policy", "--shards", "--shard"},
	"commit":   {"--as-of", "--from", "--to", "--out", "--shards"},
}

// The flags without which a subcommand is not a sharded night.
var requiredFlags = map[string][]string{
	"run":      {"--as-of", "--events", "--out", "--shards"},
	"backfill": {"--from", "--to", "--events", "--out", "--shards"},
	"commit":   {"--out", "--shards"},
}

const (
	binary        = "/usr/local/bin/creditrun"
	containerName = "creditrun"
	airflowPod    = "../airflow/creditrun-pod.yaml"
)

// night is the value of every template variable for one night.
type night struct {
	asOf          string
	shards, shard int
}

func (n night) vars() map[string]string {
	return map[string]string{
		"AS_OF":  n.asOf,
		"SHARDS": strconv.Itoa(n.shards),
		"SHARD":  strconv.Itoa(n.shard),
		"IMAGE":  "registry.example.com/creditrun:test",
	}
}

// nights are the nights every template is rendered for: one shard, a few,
// many.
var nights = []night{
	{asOf: "2025-03-02", shards: 1, shard: 0},
	{asOf: "2025-03-02", shards: 4, shard: 2},
	{asOf: "2025-12-31", shards: 64, shard: 63},
}

// manifests is every file this test checks.
func manifests(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, airflowPod)
	for _, want := range []string{"config.yaml", "s3-secret.example.yaml", "shards-job.yaml", "commit-job.yaml", "shard-rerun-job.yaml"} {
		if !slices.Contains(files, want) {
			t.Fatalf("%s is missing", want)
		}
	}
	return files
}

// envsubstList matches the documented command that renders a template:
// envsubst 'VARIABLES' < FILE.
var envsubstList = regexp.MustCompile(`envsubst '([^']*)' < (\S+)`)

// templateVars returns the variables a file's header says envsubst
// substitutes in it, and checks that every "$" of the file is one of them
// as ${NAME}, or a Kubernetes $(NAME) reference to the container's
// environment (which envsubst leaves alone). A file with no such header
// is plain YAML: it substitutes nothing.
func templateVars(path string, data []byte) (map[string]bool, error) {
	declared := map[string]bool{}
	for _, m := range envsubstList.FindAllSubmatch(data, -1) {
		if string(m[2]) != filepath.Base(path) {
			continue
		}
		for _, v := range strings.Fields(string(m[1])) {
			name, ok := strings.CutPrefix(v, "$")
			if !ok {
				return nil, fmt.Errorf("%s: envsubst variable %q: want $NAME", path, v)
			}
			declared[name] = true
		}
	}
	used := map[string]bool{}
	// Comments document the commands, which hold shell variables.
	for i, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		for j := 0; j < len(line); j++ {
			if line[j] != '$' {
				continue
			}
			rest := line[j+1:]
			switch {
			case strings.HasPrefix(rest, "{") && strings.Contains(rest, "}"):
				name := rest[1:strings.Index(rest, "}")]
				if !declared[name] {
					return nil, fmt.Errorf("%s:%d: ${%s} is not among the variables its envsubst command substitutes %v", path, i+1, name, keys(declared))
				}
				used[name] = true
			case strings.HasPrefix(rest, "(") && strings.Contains(rest, ")"):
				// A Kubernetes reference, checked against the env later.
			default:
				return nil, fmt.Errorf("%s:%d: a $ that is neither ${VARIABLE} nor $(ENV): %q", path, i+1, line)
			}
		}
	}
	for name := range declared {
		if !used[name] {
			return nil, fmt.Errorf("%s: envsubst substitutes $%s, which the file never uses", path, name)
		}
	}
	return declared, nil
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

var placeholder = regexp.MustCompile(`\$\{([A-Z_][A-Z0-9_]*)\}`)

// render is what envsubst makes of a template for night n.
func render(path string, n night) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if _, err := templateVars(path, data); err != nil {
		return nil, err
	}
	vars := n.vars()
	return placeholder.ReplaceAllFunc(data, func(m []byte) []byte {
		return []byte(vars[string(m[2:len(m)-1])])
	}), nil
}

// objects is what one or more files hold, by kind, decoded strictly.
type objects struct {
	jobs       map[string]*batchv1.Job // by file name
	pods       map[string]*corev1.Pod
	configMaps map[string]*corev1.ConfigMap // by object name
	secrets    map[string]*corev1.Secret
}

func newObjects() *objects {
	return &objects{jobs: map[string]*batchv1.Job{}, pods: map[string]*corev1.Pod{}, configMaps: map[string]*corev1.ConfigMap{}, secrets: map[string]*corev1.Secret{}}
}

// decode splits a file into its YAML documents and decodes each strictly
// into the API type its kind names: an unknown or misspelt field (in any
// letter case), a duplicate field or a wrong type is an error.
func decode(path string, data []byte, into *objects) error {
	docs := regexp.MustCompile(`(?m)^---[ \t]*$`).Split(string(data), -1)
	n := 0
	for i, doc := range docs {
		if strings.TrimSpace(regexp.MustCompile(`(?m)^\s*#.*$`).ReplaceAllString(doc, "")) == "" {
			continue
		}
		n++
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			return fmt.Errorf("%s: document %d: %w", path, i+1, err)
		}
		var obj any
		var want string
		switch tm.Kind {
		case "Job":
			obj, want = &batchv1.Job{}, "batch/v1"
		case "Pod":
			obj, want = &corev1.Pod{}, "v1"
		case "ConfigMap":
			obj, want = &corev1.ConfigMap{}, "v1"
		case "Secret":
			obj, want = &corev1.Secret{}, "v1"
		default:
			return fmt.Errorf("%s: document %d: kind %q: want Job, Pod, ConfigMap or Secret", path, i+1, tm.Kind)
		}
		if tm.APIVersion != want {
			return fmt.Errorf("%s: document %d: %s of apiVersion %q, want %q", path, i+1, tm.Kind, tm.APIVersion, want)
		}
		// As the API server decodes: YAML to JSON refusing duplicate keys,
		// then JSON into the type case-sensitively, refusing unknown and
		// duplicate fields (encoding/json alone would take
		// readOnlyRootFileSystem for readOnlyRootFilesystem).
		js, err := yaml.YAMLToJSONStrict([]byte(doc))
		if err != nil {
			return fmt.Errorf("%s: document %d (%s): %w", path, i+1, tm.Kind, err)
		}
		strict, err := kjson.UnmarshalStrict(js, obj)
		if err == nil && len(strict) > 0 {
			err = errors.Join(strict...)
		}
		if err != nil {
			return fmt.Errorf("%s: document %d (%s): %w", path, i+1, tm.Kind, err)
		}
		switch o := obj.(type) {
		case *batchv1.Job:
			if _, dup := into.jobs[filepath.Base(path)]; dup {
				return fmt.Errorf("%s: more than one Job", path)
			}
			into.jobs[filepath.Base(path)] = o
		case *corev1.Pod:
			into.pods[filepath.Base(path)] = o
		case *corev1.ConfigMap:
			into.configMaps[o.Name] = o
		case *corev1.Secret:
			into.secrets[o.Name] = o
		}
	}
	if n == 0 {
		return fmt.Errorf("%s: no manifest", path)
	}
	return nil
}

// load renders and decodes every manifest for night n.
func load(t *testing.T, n night) *objects {
	t.Helper()
	all := newObjects()
	for _, path := range manifests(t) {
		data, err := render(path, n)
		if err != nil {
			t.Fatal(err)
		}
		if err := decode(path, data, all); err != nil {
			t.Fatal(err)
		}
	}
	return all
}

func TestManifestsDecodeStrictly(t *testing.T) {
	for _, n := range nights {
		all := load(t, n)
		for _, want := range []string{"shards-job.yaml", "commit-job.yaml", "shard-rerun-job.yaml"} {
			if all.jobs[want] == nil {
				t.Errorf("%s holds no Job", want)
			}
		}
		if all.pods[filepath.Base(airflowPod)] == nil {
			t.Errorf("%s holds no Pod", airflowPod)
		}
		for _, name := range []string{"creditrun-settings", "creditrun-policy"} {
			if all.configMaps[name] == nil {
				t.Errorf("no ConfigMap %s", name)
			}
		}
		if all.secrets["creditrun-s3"] == nil {
			t.Error("no Secret creditrun-s3")
		}
	}
}

// The decoder itself: what it must refuse.
func TestDecoderIsStrict(t *testing.T) {
	base, err := render("commit-job.yaml", nights[1])
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string][2]string{ // what to replace, with what
		"unknown field":  {"  backoffLimit: 10", "  backoffLimit: 10\n  backofLimitPerIndex: 3"},
		"duplicate key":  {"  backoffLimit: 10", "  backoffLimit: 10\n  backoffLimit: 11"},
		"wrong type":     {"  backoffLimit: 10", "  backoffLimit: ten"},
		"unknown kind":   {"kind: Job", "kind: CronJobb"},
		"wrong version":  {"apiVersion: batch/v1", "apiVersion: batch/v1beta1"},
		"letter case":    {"readOnlyRootFilesystem: true", "readOnlyRootFileSystem: true"},
		"template field": {"restartPolicy: Never", "restartpolicy: Never"},
		"quantity":       {"memory: 1Gi", "memory: 1 GiB"},
		"exit code type": {"values: [75]", `values: ["75"]`},
	} {
		t.Run(name, func(t *testing.T) {
			bad := strings.Replace(string(base), r[0], r[1], 1)
			if bad == string(base) {
				t.Fatalf("no %q to replace", r[0])
			}
			if err := decode("commit-job.yaml", []byte(bad), newObjects()); err == nil {
				t.Error("decoded without error")
			}
		})
	}
}

func TestTemplatesSubstituteOnlyWhatTheirCommandSays(t *testing.T) {
	for path, want := range map[string][]string{
		"shards-job.yaml":        {"AS_OF", "IMAGE", "SHARDS"},
		"commit-job.yaml":        {"AS_OF", "IMAGE", "SHARDS"},
		"shard-rerun-job.yaml":   {"AS_OF", "IMAGE", "SHARD", "SHARDS"},
		"config.yaml":            nil,
		"s3-secret.example.yaml": nil,
		airflowPod:               nil,
	} {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		vars, err := templateVars(path, data)
		if err != nil {
			t.Error(err)
			continue
		}
		if got := keys(vars); !slices.Equal(got, want) {
			t.Errorf("%s substitutes %v, want %v", path, got, want)
		}
	}
	// What the check refuses.
	for _, bad := range []string{
		"# envsubst '$AS_OF' < x.yaml\nname: a-${AS_OF}-${SHARDS}\n", // not declared
		"# envsubst '$AS_OF $SHARDS' < x.yaml\nname: a-${AS_OF}\n",   // declared, unused
		"name: a-$AS_OF\n", // envsubst would substitute it
		"# envsubst 'AS_OF' < x.yaml\nname: a-${AS_OF}\n",
	} {
		if _, err := templateVars("x.yaml", []byte(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

// ruleAction is what the Job controller does with a pod of the template
// whose container creditrun exited with code (0: the pod failed without an
// exit code of its own), under conditions: the action of the first rule
// that matches, and Count when none does.
func ruleAction(p *batchv1.PodFailurePolicy, code int32, conditions ...corev1.PodCondition) batchv1.PodFailurePolicyAction {
	for _, r := range p.Rules {
		if e := r.OnExitCodes; e != nil && code != 0 {
			if e.ContainerName != nil && *e.ContainerName != containerName {
				continue
			}
			in := slices.Contains(e.Values, code)
			if in == (e.Operator == batchv1.PodFailurePolicyOnExitCodesOpIn) {
				return r.Action
			}
		}
		for _, pat := range r.OnPodConditions {
			for _, c := range conditions {
				if c.Type == pat.Type && c.Status == pat.Status {
					return r.Action
				}
			}
		}
	}
	return batchv1.PodFailurePolicyActionCount
}

// jobProblems checks a Job against the API server's validation of what it
// uses and against the retry policy of creditrun's exit codes: indexed
// says whether it is the shards' Indexed Job.
func jobProblems(job *batchv1.Job, indexed bool) []string {
	var probs []string
	add := func(format string, args ...any) { probs = append(probs, fmt.Sprintf(format, args...)) }
	spec := &job.Spec

	for _, msg := range validation.IsDNS1123Label(job.Name) {
		add("name %q: %s", job.Name, msg)
	}
	for _, labels := range []map[string]string{job.Labels, spec.Template.Labels} {
		for k, v := range labels {
			for _, msg := range validation.IsQualifiedName(k) {
				add("label %q: %s", k, msg)
			}
			for _, msg := range validation.IsValidLabelValue(v) {
				add("label %s=%q: %s", k, v, msg)
			}
		}
	}
	if spec.Completions == nil || spec.Parallelism == nil {
		add("completions and parallelism must be set")
		return probs
	}
	completions, parallelism := *spec.Completions, *spec.Parallelism
	if completions < 1 || parallelism != completions {
		add("completions %d, parallelism %d: want equal and at least 1", completions, parallelism)
	}
	mode := batchv1.NonIndexedCompletion
	if spec.CompletionMode != nil {
		mode = *spec.CompletionMode
	}
	if indexed {
		if mode != batchv1.IndexedCompletion {
			add("completionMode %s, want Indexed", mode)
		}
		// The pods' host names are NAME-INDEX.
		if host := fmt.Sprintf("%s-%d", job.Name, completions-1); len(host) > validation.DNS1123LabelMaxLength {
			add("pod host name %q is longer than %d", host, validation.DNS1123LabelMaxLength)
		}
		switch {
		case spec.BackoffLimitPerIndex == nil || *spec.BackoffLimitPerIndex < 1:
			add("backoffLimitPerIndex must be set and at least 1: a shard is retried alone")
		case spec.MaxFailedIndexes == nil:
			add("maxFailedIndexes must be set")
		case *spec.MaxFailedIndexes != completions:
			// Up to completions is valid; completions lets every shard
			// finish when one fails, so only the failed one reruns.
			add("maxFailedIndexes %d, want completions (%d): a failed shard must not stop the others", *spec.MaxFailedIndexes, completions)
		}
		if spec.BackoffLimit != nil {
			add("backoffLimit set beside backoffLimitPerIndex: the retries are per shard")
		}
	} else {
		if mode != batchv1.NonIndexedCompletion || completions != 1 {
			add("completionMode %s, completions %d: want one NonIndexed pod", mode, completions)
		}
		if spec.BackoffLimitPerIndex != nil || spec.MaxFailedIndexes != nil {
			add("backoffLimitPerIndex and maxFailedIndexes are for Indexed Jobs only")
		}
		if spec.BackoffLimit == nil || *spec.BackoffLimit < 1 {
			add("backoffLimit must be set and at least 1: exit 75 is retried")
		}
	}
	if spec.ActiveDeadlineSeconds == nil || spec.TTLSecondsAfterFinished == nil {
		add("activeDeadlineSeconds and ttlSecondsAfterFinished must be set")
	}
	if spec.Template.Spec.RestartPolicy != corev1.RestartPolicyNever {
		add("restartPolicy %q: a pod failure policy needs Never", spec.Template.Spec.RestartPolicy)
	}
	if spec.PodReplacementPolicy == nil || *spec.PodReplacementPolicy != batchv1.Failed {
		add("podReplacementPolicy must be Failed (the only value a pod failure policy allows)")
	}

	p := spec.PodFailurePolicy
	if p == nil {
		return append(probs, "no podFailurePolicy")
	}
	if len(p.Rules) > 20 {
		add("%d pod failure policy rules, at most 20", len(p.Rules))
	}
	for i, r := range p.Rules {
		switch r.Action {
		case batchv1.PodFailurePolicyActionFailJob, batchv1.PodFailurePolicyActionIgnore, batchv1.PodFailurePolicyActionCount:
		case batchv1.PodFailurePolicyActionFailIndex:
			if spec.BackoffLimitPerIndex == nil {
				add("rule %d: FailIndex needs backoffLimitPerIndex", i)
			}
		default:
			add("rule %d: unknown action %q", i, r.Action)
		}
		if (r.OnExitCodes == nil) == (len(r.OnPodConditions) == 0) {
			add("rule %d: exactly one of onExitCodes and onPodConditions", i)
		}
		if e := r.OnExitCodes; e != nil {
			if e.ContainerName == nil || !slices.ContainsFunc(spec.Template.Spec.Containers, func(c corev1.Container) bool { return c.Name == *e.ContainerName }) {
				add("rule %d: containerName must name the creditrun container", i)
			}
			if e.Operator != batchv1.PodFailurePolicyOnExitCodesOpIn && e.Operator != batchv1.PodFailurePolicyOnExitCodesOpNotIn {
				add("rule %d: operator %q", i, e.Operator)
			}
			if len(e.Values) == 0 || len(e.Values) > 255 {
				add("rule %d: %d values, want 1 to 255", i, len(e.Values))
			}
			if !slices.IsSorted(e.Values) || len(slices.Compact(slices.Clone(e.Values))) != len(e.Values) {
				add("rule %d: values %v must be ordered and unique", i, e.Values)
			}
			if e.Operator == batchv1.PodFailurePolicyOnExitCodesOpIn && slices.Contains(e.Values, 0) {
				add("rule %d: 0 is not allowed with In", i)
			}
		}
	}

	// The policy: 75 retried (counted), the permanent codes and any code
	// that is not creditrun's failing at once, a disruption not counted.
	fail := batchv1.PodFailurePolicyActionFailJob
	if indexed {
		fail = batchv1.PodFailurePolicyActionFailIndex
	}
	for code := int32(1); code <= 255; code++ {
		want := fail
		if code == exitTemporary {
			want = batchv1.PodFailurePolicyActionCount
		}
		if got := ruleAction(p, code); got != want {
			add("exit %d: %s, want %s", code, got, want)
		}
	}
	disrupted := corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue}
	if got := ruleAction(p, 0, disrupted); got != batchv1.PodFailurePolicyActionIgnore {
		add("a disrupted pod (evicted, preempted, node drained): %s, want Ignore", got)
	}
	// SIGTERM of a disruption: creditrun exits 75 and is not counted.
	if got := ruleAction(p, exitTemporary, disrupted); got != batchv1.PodFailurePolicyActionIgnore {
		add("a disrupted pod that exited 75: %s, want Ignore", got)
	}
	return probs
}

// command is a parsed creditrun command line.
type command struct {
	sub   string
	flags map[string]string
	order []string
}

// parseCommand reads a container's command line: the creditrun binary, a
// subcommand, then --flag value pairs among the allowed flags.
func parseCommand(c *corev1.Container) (command, error) {
	cmd := command{flags: map[string]string{}}
	if !slices.Equal(c.Command, []string{binary}) {
		return cmd, fmt.Errorf("command %q, want [%s]", c.Command, binary)
	}
	if len(c.Args) == 0 {
		return cmd, fmt.Errorf("no arguments")
	}
	cmd.sub = c.Args[0]
	allowed, ok := allowedFlags[cmd.sub]
	if !ok {
		return cmd, fmt.Errorf("subcommand %q, want one of run, backfill, commit", cmd.sub)
	}
	args := c.Args[1:]
	for len(args) > 0 {
		flag := args[0]
		if !slices.Contains(allowed, flag) {
			return cmd, fmt.Errorf("%s: flag %q is not one of %v", cmd.sub, flag, allowed)
		}
		if len(args) < 2 || strings.HasPrefix(args[1], "--") || args[1] == "" {
			return cmd, fmt.Errorf("%s: %s without a value", cmd.sub, flag)
		}
		if _, dup := cmd.flags[flag]; dup {
			return cmd, fmt.Errorf("%s: %s given twice", cmd.sub, flag)
		}
		cmd.flags[flag], cmd.order = args[1], append(cmd.order, flag)
		args = args[2:]
	}
	for _, flag := range requiredFlags[cmd.sub] {
		if _, ok := cmd.flags[flag]; !ok {
			return cmd, fmt.Errorf("%s without %s", cmd.sub, flag)
		}
	}
	_, asOf := cmd.flags["--as-of"]
	_, from := cmd.flags["--from"]
	_, to := cmd.flags["--to"]
	if asOf == (from || to) || from != to {
		return cmd, fmt.Errorf("%s: want --as-of D, or --from A --to B", cmd.sub)
	}
	return cmd, nil
}

// refs is what a manifest's environment and volumes may refer to.
type refs struct {
	configMaps map[string]*corev1.ConfigMap
	secrets    map[string]*corev1.Secret
}

// podProblems checks a pod spec as a platform team requires it (non-root,
// read-only root, no privilege, bounded resources, a writable emptyDir for
// temporary files) and every reference of its environment and volumes.
func podProblems(spec *corev1.PodSpec, r refs) []string {
	var probs []string
	add := func(format string, args ...any) { probs = append(probs, fmt.Sprintf(format, args...)) }
	if len(spec.Containers) != 1 || len(spec.InitContainers) != 0 {
		return []string{"want exactly one container"}
	}
	c := &spec.Containers[0]
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		add("automountServiceAccountToken must be false: creditrun never calls the API server")
	}
	if spec.HostNetwork || spec.HostPID || spec.HostIPC {
		add("no host namespaces")
	}
	psc := spec.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
		add("pod securityContext: runAsNonRoot and a non-zero runAsUser")
	}
	if psc == nil || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		add("pod securityContext: seccompProfile RuntimeDefault")
	}
	sc := c.SecurityContext
	switch {
	case sc == nil:
		add("no container securityContext")
	default:
		if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
			add("readOnlyRootFilesystem must be true")
		}
		if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			add("allowPrivilegeEscalation must be false")
		}
		if sc.Privileged != nil && *sc.Privileged {
			add("privileged")
		}
		if sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) != 0 {
			add("capabilities: drop ALL, add none")
		}
	}
	for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage} {
		req, hasReq := c.Resources.Requests[res]
		lim, hasLim := c.Resources.Limits[res]
		if !hasReq || !hasLim || req.Sign() <= 0 || req.Cmp(lim) > 0 {
			add("resources: %s needs a positive request at most its limit", res)
		}
	}

	volumes := map[string]*corev1.Volume{}
	for i := range spec.Volumes {
		v := &spec.Volumes[i]
		volumes[v.Name] = v
		if cm := v.ConfigMap; cm != nil && r.configMaps[cm.Name] == nil {
			add("volume %s: no ConfigMap %s", v.Name, cm.Name)
		}
	}
	mounts := map[string]*corev1.Volume{}
	for _, m := range c.VolumeMounts {
		v := volumes[m.Name]
		if v == nil {
			add("mount %s: no such volume", m.Name)
			continue
		}
		mounts[m.MountPath] = v
		if v.EmptyDir == nil && !m.ReadOnly {
			add("mount %s: only the emptyDir may be writable", m.MountPath)
		}
	}
	tmp := mounts["/tmp"]
	if tmp == nil || tmp.EmptyDir == nil || tmp.EmptyDir.SizeLimit == nil {
		add("/tmp must be an emptyDir with a sizeLimit: the only writable path")
	} else if eph := c.Resources.Limits[corev1.ResourceEphemeralStorage]; eph.Cmp(*tmp.EmptyDir.SizeLimit) < 0 {
		add("the emptyDir's sizeLimit is above the ephemeral-storage limit")
	}

	env := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		if _, dup := env[e.Name]; dup {
			add("env %s twice", e.Name)
		}
		env[e.Name] = e
		switch {
		case e.ValueFrom == nil:
		case e.ValueFrom.ConfigMapKeyRef != nil:
			ref := e.ValueFrom.ConfigMapKeyRef
			cm := r.configMaps[ref.Name]
			if cm == nil {
				add("env %s: no ConfigMap %s", e.Name, ref.Name)
			} else if _, ok := cm.Data[ref.Key]; !ok && (ref.Optional == nil || !*ref.Optional) {
				add("env %s: ConfigMap %s has no key %s", e.Name, ref.Name, ref.Key)
			}
		case e.ValueFrom.SecretKeyRef != nil:
			ref := e.ValueFrom.SecretKeyRef
			s := r.secrets[ref.Name]
			if s == nil {
				add("env %s: no Secret %s", e.Name, ref.Name)
			} else if _, ok := s.StringData[ref.Key]; !ok {
				add("env %s: Secret %s has no key %s", e.Name, ref.Name, ref.Key)
			}
		default:
			add("env %s: only ConfigMap and Secret keys", e.Name)
		}
	}
	if e := env["TMPDIR"]; e.Value != "/tmp" {
		add("TMPDIR must be /tmp, the emptyDir")
	}
	// S3 the standard way: the credentials from a Secret, never in clear.
	for _, name := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} {
		if e, ok := env[name]; !ok || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
			add("%s must come from a Secret", name)
		}
	}
	for _, name := range []string{"AWS_REGION", "AWS_ENDPOINT_URL"} {
		if _, ok := env[name]; !ok {
			add("no %s", name)
		}
	}
	if len(c.EnvFrom) != 0 {
		add("envFrom: list every variable, so that each reference is checked")
	}

	if c.Command == nil && c.Args == nil {
		return probs // the Airflow template: the DAG adds them
	}
	cmd, err := parseCommand(c)
	if err != nil {
		return append(probs, err.Error())
	}
	for _, flag := range cmd.order {
		value := cmd.flags[flag]
		if name, ok := strings.CutPrefix(value, "$("); ok {
			name = strings.TrimSuffix(name, ")")
			if _, ok := env[name]; !ok {
				add("%s $(%s): no such environment variable", flag, name)
			}
		}
		if strings.Contains(value, "${") {
			add("%s %s: not rendered", flag, value)
		}
	}
	if p, ok := cmd.flags["--policy"]; ok {
		v := mounts[filepath.Dir(p)]
		if v == nil || v.ConfigMap == nil {
			add("--policy %s: not in a mounted ConfigMap", p)
		} else if cm := r.configMaps[v.ConfigMap.Name]; cm != nil {
			if _, ok := cm.Data[filepath.Base(p)]; !ok {
				add("--policy %s: ConfigMap %s has no key %s", p, cm.Name, filepath.Base(p))
			}
		}
	}
	return probs
}

func (all *objects) refs() refs { return refs{configMaps: all.configMaps, secrets: all.secrets} }

func report(t *testing.T, what string, probs []string) {
	t.Helper()
	for _, p := range probs {
		t.Errorf("%s: %s", what, p)
	}
}

func TestJobs(t *testing.T) {
	for _, n := range nights {
		t.Run(fmt.Sprintf("%d-shards", n.shards), func(t *testing.T) {
			all := load(t, n)
			shards, commit, rerun := all.jobs["shards-job.yaml"], all.jobs["commit-job.yaml"], all.jobs["shard-rerun-job.yaml"]
			report(t, "shards-job.yaml", jobProblems(shards, true))
			report(t, "commit-job.yaml", jobProblems(commit, false))
			report(t, "shard-rerun-job.yaml", jobProblems(rerun, false))
			for file, job := range all.jobs {
				report(t, file, podProblems(&job.Spec.Template.Spec, all.refs()))
			}
			report(t, airflowPod, podProblems(&all.pods[filepath.Base(airflowPod)].Spec, all.refs()))
			report(t, "the night", nightProblems(shards, commit, rerun, n))
		})
	}
}

// nightProblems checks that the three Jobs are one night: the shards run
// N indexes, the commit commits N shards of the same date from the same
// output, and the rerun runs one of those shards in the shards' pod.
func nightProblems(shards, commit, rerun *batchv1.Job, n night) []string {
	var probs []string
	add := func(format string, args ...any) { probs = append(probs, fmt.Sprintf(format, args...)) }
	cmds := map[string]command{}
	for name, job := range map[string]*batchv1.Job{"shards": shards, "commit": commit, "rerun": rerun} {
		cmd, err := parseCommand(&job.Spec.Template.Spec.Containers[0])
		if err != nil {
			add("%s: %v", name, err)
			return probs
		}
		cmds[name] = cmd
	}
	if cmds["shards"].sub != "run" || cmds["rerun"].sub != "run" || cmds["commit"].sub != "commit" {
		add("subcommands %s, %s, %s: want run, run, commit", cmds["shards"].sub, cmds["rerun"].sub, cmds["commit"].sub)
	}
	if _, ok := cmds["shards"].flags["--shard"]; ok {
		add("the Indexed Job must take the shard from JOB_COMPLETION_INDEX, not --shard")
	}
	completions := int(*shards.Spec.Completions)
	if completions != n.shards {
		add("completions %d, want the night's %d shards", completions, n.shards)
	}
	for name, cmd := range cmds {
		if got := cmd.flags["--shards"]; got != strconv.Itoa(completions) {
			add("%s: --shards %s, want completions %d", name, got, completions)
		}
		if got := cmd.flags["--as-of"]; got != n.asOf {
			add("%s: --as-of %s, want %s", name, got, n.asOf)
		}
	}
	if k, err := strconv.Atoi(cmds["rerun"].flags["--shard"]); err != nil || k < 0 || k >= completions || k != n.shard {
		add("rerun: --shard %q, want %d, an index below %d", cmds["rerun"].flags["--shard"], n.shard, completions)
	}
	// One output, the same source for every step.
	if a, b := outSource(shards, cmds["shards"]), outSource(commit, cmds["commit"]); a == nil || !reflect.DeepEqual(a, b) {
		add("--out of the shards (%v) and of the commit (%v) must be the same ConfigMap key", a, b)
	}
	// The rerun is the shards' pod with --shard K.
	want := shards.Spec.Template.DeepCopy()
	got := rerun.Spec.Template.DeepCopy()
	c := &got.Spec.Containers[0]
	if i := slices.Index(c.Args, "--shard"); i >= 0 && i+1 < len(c.Args) {
		c.Args = slices.Delete(c.Args, i, i+2)
	}
	delete(got.Labels, "creditrun.example.com/shard")
	if !reflect.DeepEqual(want, got) {
		add("the rerun's pod is not the shards' pod with --shard")
	}
	return probs
}

// outSource is where a Job's --out comes from: the source of the
// environment variable it refers to.
func outSource(job *batchv1.Job, cmd command) *corev1.EnvVarSource {
	name, ok := strings.CutPrefix(cmd.flags["--out"], "$(")
	if !ok {
		return nil
	}
	name = strings.TrimSuffix(name, ")")
	for _, e := range job.Spec.Template.Spec.Containers[0].Env {
		if e.Name == name {
			return e.ValueFrom
		}
	}
	return nil
}

// The pod Airflow starts for a shard is the Job's, but for what the DAG
// adds (image, command, arguments) and the container's name, which the
// KubernetesPodOperator requires to be "base".
func TestAirflowPodIsTheShardsPod(t *testing.T) {
	all := load(t, nights[1])
	pod := all.pods[filepath.Base(airflowPod)]
	want := all.jobs["shards-job.yaml"].Spec.Template.Spec.DeepCopy()
	c := &want.Containers[0]
	c.Name, c.Image, c.Command, c.Args = "base", "", nil, nil
	if !reflect.DeepEqual(*want, pod.Spec) {
		gotY, _ := yaml.Marshal(pod.Spec)
		wantY, _ := yaml.Marshal(want)
		t.Errorf("%s's spec differs from the shards Job's pod:\n%s\nwant:\n%s", airflowPod, gotY, wantY)
	}
	if pod.Name != "" || pod.Namespace != "" {
		t.Error("the operator names the pod and picks its namespace")
	}
}

// The checks above fail on the mistakes they exist to catch.
func TestChecksCatchMistakes(t *testing.T) {
	n := nights[1]
	for name, c := range map[string]struct {
		edit func(j *batchv1.Job)
		want string
	}{
		"not indexed": {func(j *batchv1.Job) { j.Spec.CompletionMode = nil }, "completionMode"},
		"parallelism": {func(j *batchv1.Job) { j.Spec.Parallelism = ptr(int32(2)) }, "parallelism 2"},
		"75 fails the index": {func(j *batchv1.Job) {
			j.Spec.PodFailurePolicy.Rules[2].Action = batchv1.PodFailurePolicyActionFailIndex
		}, "exit 75"},
		"3 retried":            {func(j *batchv1.Job) { j.Spec.PodFailurePolicy.Rules[1].OnExitCodes.Values = []int32{1, 2, 4} }, "exit 3"},
		"137 retried":          {func(j *batchv1.Job) { j.Spec.PodFailurePolicy.Rules = j.Spec.PodFailurePolicy.Rules[:3] }, "exit 137"},
		"eviction counted":     {func(j *batchv1.Job) { j.Spec.PodFailurePolicy.Rules = j.Spec.PodFailurePolicy.Rules[1:] }, "disrupted"},
		"unordered codes":      {func(j *batchv1.Job) { j.Spec.PodFailurePolicy.Rules[1].OnExitCodes.Values = []int32{2, 1, 3, 4} }, "ordered"},
		"0 with In":            {func(j *batchv1.Job) { j.Spec.PodFailurePolicy.Rules[1].OnExitCodes.Values = []int32{0, 1, 2, 3, 4} }, "0 is not allowed"},
		"no per-index backoff": {func(j *batchv1.Job) { j.Spec.BackoffLimitPerIndex = nil }, "backoffLimitPerIndex"},
		"max failed indexes":   {func(j *batchv1.Job) { j.Spec.MaxFailedIndexes = ptr(int32(0)) }, "maxFailedIndexes"},
		"replacement":          {func(j *batchv1.Job) { j.Spec.PodReplacementPolicy = nil }, "podReplacementPolicy"},
		"restart on failure":   {func(j *batchv1.Job) { j.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyOnFailure }, "restartPolicy"},
		"wrong container":      {func(j *batchv1.Job) { j.Spec.PodFailurePolicy.Rules[1].OnExitCodes.ContainerName = ptr("main") }, "containerName"},
		"writable root": {func(j *batchv1.Job) {
			j.Spec.Template.Spec.Containers[0].SecurityContext.ReadOnlyRootFilesystem = ptr(false)
		}, "readOnlyRootFilesystem"},
		"root": {func(j *batchv1.Job) { j.Spec.Template.Spec.SecurityContext.RunAsNonRoot = nil }, "runAsNonRoot"},
		"no memory limit": {func(j *batchv1.Job) {
			delete(j.Spec.Template.Spec.Containers[0].Resources.Limits, corev1.ResourceMemory)
		}, "memory"},
		"no tmp": {func(j *batchv1.Job) {
			j.Spec.Template.Spec.Containers[0].VolumeMounts = j.Spec.Template.Spec.Containers[0].VolumeMounts[:1]
		}, "/tmp"},
		"flag not in the CLI": {func(j *batchv1.Job) { addArgs(j, "--workers", "8") }, `"--workers"`},
		"explicit shard":      {func(j *batchv1.Job) { addArgs(j, "--shard", "0") }, "JOB_COMPLETION_INDEX"},
		"other shard count":   {func(j *batchv1.Job) { setArg(j, "--shards", "5") }, "--shards 5"},
		"unknown env ref":     {func(j *batchv1.Job) { setArg(j, "--events", "$(EVENTS)") }, "$(EVENTS)"},
		"policy not mounted":  {func(j *batchv1.Job) { setArg(j, "--policy", "/etc/policy.yaml") }, "--policy"},
		"secret in clear": {func(j *batchv1.Job) {
			setEnv(j, "AWS_SECRET_ACCESS_KEY", corev1.EnvVar{Name: "AWS_SECRET_ACCESS_KEY", Value: "x"})
		}, "AWS_SECRET_ACCESS_KEY"},
		"missing ConfigMap key": {func(j *batchv1.Job) {
			j.Spec.Template.Spec.Containers[0].Env[0].ValueFrom.ConfigMapKeyRef.Key = "event"
		}, "no key event"},
		"name too long for host": {func(j *batchv1.Job) { j.Name = strings.Repeat("a", 62) }, "host name"},
	} {
		t.Run(name, func(t *testing.T) {
			all := load(t, n)
			shards := all.jobs["shards-job.yaml"]
			c.edit(shards)
			probs := jobProblems(shards, true)
			probs = append(probs, podProblems(&shards.Spec.Template.Spec, all.refs())...)
			probs = append(probs, nightProblems(shards, all.jobs["commit-job.yaml"], all.jobs["shard-rerun-job.yaml"], n)...)
			if !slices.ContainsFunc(probs, func(p string) bool { return strings.Contains(p, c.want) }) {
				t.Errorf("no problem mentions %q; problems: %q", c.want, probs)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func addArgs(j *batchv1.Job, args ...string) {
	c := &j.Spec.Template.Spec.Containers[0]
	c.Args = append(c.Args, args...)
}

func setArg(j *batchv1.Job, flag, value string) {
	c := &j.Spec.Template.Spec.Containers[0]
	c.Args[slices.Index(c.Args, flag)+1] = value
}

func setEnv(j *batchv1.Job, name string, e corev1.EnvVar) {
	c := &j.Spec.Template.Spec.Containers[0]
	c.Env[slices.IndexFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == name })] = e
}

// The policy the ConfigMap holds is one creditrun accepts.
func TestPolicyConfigMapParses(t *testing.T) {
	all := load(t, nights[0])
	cm := all.configMaps["creditrun-policy"]
	data, ok := cm.Data["policy.yaml"]
	if !ok {
		t.Fatal("ConfigMap creditrun-policy has no policy.yaml")
	}
	if _, err := policy.Parse("policy.yaml", []byte(data)); err != nil {
		t.Errorf("the policy in config.yaml: %v", err)
	}
}

// The settings are object-store URLs: the pods share no disk.
func TestSettings(t *testing.T) {
	all := load(t, nights[0])
	s := all.configMaps["creditrun-settings"].Data
	for _, key := range []string{"events", "out"} {
		if !strings.HasPrefix(s[key], "s3://") {
			t.Errorf("creditrun-settings %s = %q: want an s3:// URL", key, s[key])
		}
	}
	if s["events"] == s["out"] {
		t.Error("events and out are the same place")
	}
}

// The exit codes listed above are cmd/creditrun/main.go's.
func TestExitCodesAreMain(t *testing.T) {
	const main = "../../cmd/creditrun/main.go"
	f, err := parser.ParseFile(token.NewFileSet(), main, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int32{}
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok {
			return true
		}
		for i, name := range vs.Names {
			if !strings.HasPrefix(name.Name, "exit") || i >= len(vs.Values) {
				continue
			}
			lit, ok := vs.Values[i].(*ast.BasicLit)
			if !ok || lit.Kind != token.INT {
				continue
			}
			v, err := strconv.ParseInt(lit.Value, 0, 32)
			if err != nil {
				t.Fatal(err)
			}
			got[name.Name] = int32(v)
		}
		return true
	})
	if !reflect.DeepEqual(got, exitCodes) {
		t.Errorf("%s declares exit codes %v; the manifests' policy is written for %v", main, got, exitCodes)
	}
	var listed []int32
	for _, c := range exitCodes {
		if c != exitOK && c != exitTemporary {
			listed = append(listed, c)
		}
	}
	slices.Sort(listed)
	if !slices.Equal(listed, permanentExits) {
		t.Errorf("permanent exits %v, want every code but 0 and 75: %v", permanentExits, listed)
	}
}

// Every manifest reads as it is written: no tab, no trailing blank, no
// CRLF (kubectl accepts them; reviewers' diffs do not).
func TestManifestsAreTidy(t *testing.T) {
	for _, path := range manifests(t) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range bytes.Split(data, []byte("\n")) {
			if bytes.ContainsAny(line, "\t\r") || bytes.HasSuffix(line, []byte(" ")) {
				t.Errorf("%s:%d: a tab, CR or trailing space", path, i+1)
			}
		}
	}
}

// The image the Dockerfile builds is the one the pods expect: the binary
// where their command runs it, and the user they run as.
func TestDockerfileMatchesThePods(t *testing.T) {
	data, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var user, entrypoint, copied string
	for _, line := range strings.Split(string(data), "\n") {
		switch f := strings.Fields(line); {
		case len(f) == 2 && f[0] == "USER":
			user = f[1]
		case len(f) >= 2 && f[0] == "ENTRYPOINT":
			entrypoint = strings.Join(f[1:], " ")
		case len(f) == 4 && f[0] == "COPY" && strings.HasPrefix(f[1], "--from="):
			copied = f[3]
		}
	}
	if copied != binary || entrypoint != `["`+binary+`"]` {
		t.Errorf("the image puts creditrun at %q with entrypoint %s; the pods run %s", copied, entrypoint, binary)
	}
	all := load(t, nights[1])
	specs := map[string]*corev1.PodSpec{airflowPod: &all.pods[filepath.Base(airflowPod)].Spec}
	for file, job := range all.jobs {
		specs[file] = &job.Spec.Template.Spec
	}
	for file, spec := range specs {
		sc := spec.SecurityContext
		if got := fmt.Sprintf("%d:%d", *sc.RunAsUser, *sc.RunAsGroup); got != user {
			t.Errorf("%s runs as %s, the image as USER %s", file, got, user)
		}
	}
}
