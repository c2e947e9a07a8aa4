package validate

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/pattern-gen/pattern-gen/internal/render"
)

// PluginCredentials checks that a clusterGroup whose applications cmp-plugin renders gives the
// plugin sidecar what it needs to read the cluster, on OpenShift GitOps as it really runs:
//   - argocd-operator (controllers/argocd/repo_server.go, reconcileRepoDeployment) sets
//     automountServiceAccountToken: false on the repo-server pod unless the ArgoCD CR sets
//     spec.repo.mountsatoken, which the clustergroup chart never renders; so the sidecar needs
//     a projected serviceAccountToken volume (with the cluster CA and the namespace) mounted
//     where client-go's in-cluster config reads it;
//   - the operator leaves serviceAccountName unset unless spec.repo.serviceaccount is given
//     (the chart never gives it), so the pod runs as "default" in the Argo CD namespace, and
//     cmp-plugin-rbac must bind exactly that account.
func PluginCredentials(p *render.Pattern, apps []render.App) []Problem {
	groupFile := "values-" + p.ClusterGroup + ".yaml"
	var users []string // the applications cmp-plugin renders (another plugin is not ours to judge)
	entries, _ := p.Dig("clusterGroup", "applications").(map[string]any)
	for key, e := range entries {
		spec, _ := e.(map[string]any)
		plugin, _ := spec["plugin"].(map[string]any)
		if name, _ := plugin["name"].(string); strings.HasPrefix(name, render.PluginBase) {
			appName, _ := spec["name"].(string)
			users = append(users, cmp.Or(appName, key))
		}
	}
	if len(users) == 0 {
		return nil
	}
	slices.Sort(users)
	var ps []Problem
	const fix = "pattern-gen init writes it; OpenShift GitOps gives the repo-server pod no automounted token (argocd-operator controllers/argocd/repo_server.go)"
	plugins, _ := p.Dig("clusterGroup", "argoCD", "configManagementPlugins").([]any)
	at := slices.IndexFunc(plugins, func(c any) bool { m, _ := c.(map[string]any); return m["name"] == render.PluginBase })
	if at < 0 {
		return append(ps, Problem{File: groupFile, Path: "clusterGroup.argoCD.configManagementPlugins",
			Msg: fmt.Sprintf("no %s sidecar, but applications %s use it; add it (%s)", render.PluginBase, strings.Join(users, ", "), fix)})
	}
	path := fmt.Sprintf("clusterGroup.argoCD.configManagementPlugins[%d].volumeMounts", at)
	mounts, _ := plugins[at].(map[string]any)["volumeMounts"].([]any)
	volume := ""
	for _, m := range mounts {
		if mm, _ := m.(map[string]any); mm["mountPath"] == render.TokenMountPath {
			volume, _ = mm["name"].(string)
		}
	}
	if volume == "" {
		ps = append(ps, Problem{File: groupFile, Path: path,
			Msg: fmt.Sprintf("nothing is mounted at %s, so cmp-plugin has no service-account token and applications %s fail to generate; mount the projected token volume %s there (%s)", render.TokenMountPath, strings.Join(users, ", "), render.TokenVolume, fix)})
	} else if msg := tokenVolumeProblem(p, volume); msg != "" {
		ps = append(ps, Problem{File: groupFile, Path: "clusterGroup.argoCD.volumes", Msg: msg + " (" + fix + ")"})
	}
	return append(ps, rbacSubjects(p, apps)...)
}

// tokenVolumeProblem says what the volume mounted at the token path lacks, or "".
func tokenVolumeProblem(p *render.Pattern, name string) string {
	volumes, _ := p.Dig("clusterGroup", "argoCD", "volumes").([]any)
	i := slices.IndexFunc(volumes, func(v any) bool { m, _ := v.(map[string]any); return m["name"] == name })
	if i < 0 {
		return fmt.Sprintf("volume %s, mounted at %s, is not declared", name, render.TokenMountPath)
	}
	projected, _ := volumes[i].(map[string]any)["projected"].(map[string]any)
	sources, _ := projected["sources"].([]any)
	has := map[string]bool{}
	for _, s := range sources {
		m, _ := s.(map[string]any)
		if t, _ := m["serviceAccountToken"].(map[string]any); t["path"] == "token" {
			has["a serviceAccountToken at path token"] = true
		}
		if c, _ := m["configMap"].(map[string]any); c["name"] == "kube-root-ca.crt" {
			has["the kube-root-ca.crt ConfigMap (ca.crt)"] = true
		}
		if d, _ := m["downwardAPI"].(map[string]any); d != nil {
			has["the namespace through the downward API"] = true
		}
	}
	var missing []string
	for _, want := range []string{"a serviceAccountToken at path token", "the kube-root-ca.crt ConfigMap (ca.crt)", "the namespace through the downward API"} {
		if !has[want] {
			missing = append(missing, want)
		}
	}
	if len(missing) > 0 {
		return fmt.Sprintf("volume %s[%d] must be projected with %s", name, i, strings.Join(missing, ", "))
	}
	return ""
}

// rbacSubjects checks that every binding of a cmp-plugin role names the account the repo
// server runs as, "default" in the clusterGroup's Argo CD namespace, and no account but that
// one and the refresher's.
func rbacSubjects(p *render.Pattern, apps []render.App) []Problem {
	if b, _ := p.Dig("global", "singleArgoCD").(bool); b {
		return nil // the clustergroup chart renders no ArgoCD of its own: the namespace is not ours to say
	}
	argoNS := p.Name + "-" + p.ClusterGroup
	fix := fmt.Sprintf("the repo server (where cmp-plugin runs) runs as %s/default: the clustergroup chart sets no spec.repo.serviceaccount; set repoServerServiceAccount: default", argoNS)
	var ps []Problem
	for _, app := range apps {
		if app.Plan.Group != p.ClusterGroup {
			continue
		}
		for _, o := range app.Objects {
			if (o.Kind != "RoleBinding" && o.Kind != "ClusterRoleBinding") || !strings.HasPrefix(o.String("roleRef", "name"), render.PluginBase+"-") {
				continue
			}
			m, err := o.Decode()
			if err != nil {
				continue
			}
			subjects, _ := m["subjects"].([]any)
			repoServer := false
			for i, s := range subjects {
				sm, _ := s.(map[string]any)
				if sm["kind"] != "ServiceAccount" {
					continue
				}
				switch {
				case sm["namespace"] == argoNS && sm["name"] == "default":
					repoServer = true
				case sm["namespace"] == argoNS && sm["name"] == RefresherAccount:
				default:
					ps = append(ps, Problem{File: app.Plan.ObjectPath(o), Path: fmt.Sprintf("subjects[%d]", i),
						Msg: fmt.Sprintf("binds ServiceAccount %v/%v, but %s", sm["namespace"], sm["name"], fix)})
				}
			}
			if !repoServer && o.String("roleRef", "name") != RefresherAccount {
				ps = append(ps, Problem{File: app.Plan.ObjectPath(o), Path: "subjects", Msg: "does not bind the repo server's account: " + fix})
			}
		}
	}
	return ps
}

// RefresherAccount is the service account of the refresher (charts/all/cmp-plugin-rbac), which
// reads the same objects as the plugin.
const RefresherAccount = "cmp-plugin-refresher"
