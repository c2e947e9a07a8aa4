package e2e

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// The AWS pattern as a user gets it from `platform: AWS`: the VPC pinned (no cluster object
// holds it), everything else from the cluster.
const awsConfig = `apiVersion: pattern-gen.io/v1alpha1
kind: Pattern
git: {repoURL: https://example.com/org/coco.git}
platform: AWS
aws: {vpcID: vpc-0123456789abcdef0}
`

// machineSetCRD is the MachineSet CRD OpenShift installs (see testdata/README.md).
const machineSetCRD = "testdata/machine.openshift.io_machinesets.yaml"

// TestArgoCDSyncsAWS syncs the AWS fork: cmp-plugin, under the real argocd-cmp-server and with only
// the fork's RBAC, fills peer-pods-cm for the aws provider from the cluster's Infrastructure (the
// region) and a worker MachineSet that names its subnet and security groups by ID, as on a cluster
// whose VPC the user brought. AWS itself is not here: nothing launches pod VMs.
func TestArgoCDSyncsAWS(t *testing.T) {
	b, helm := needSyncBinaries(t)
	a := newWorkspace(t, b, awsConfig)
	c := startArgoCluster(t, b, helm, a, clusterSpec{
		group: "hub", hubDomain: appsDomain, localDomain: appsDomain, platform: "AWS",
		crdFiles: append(esoCRDFiles(t),
			filepath.Join(refCRDs, "kataconfiguration.openshift.io_kataconfigs.yaml"),
			trusteeCRD,
			filepath.Join(refCRDs, "openshift", "config.openshift.io_ingresses.yaml"),
			filepath.Join(refCRDs, "openshift", "config.openshift.io_infrastructures.yaml"),
			machineSetCRD,
		),
		crdDocs:    []string{routeCRD},
		namespaces: []string{"openshift-sandboxed-containers-operator", "trustee-operator-system", "hello-openshift", "openshift-machine-api"},
		objects: []string{
			"apiVersion: config.openshift.io/v1\nkind: Ingress\nmetadata: {name: cluster}\nspec: {domain: " + appsDomain + "}\n",
			"apiVersion: config.openshift.io/v1\nkind: Infrastructure\nmetadata: {name: cluster}\nspec: {}\nstatus: {infrastructureName: sync-x1y2z, platform: AWS, platformStatus: {type: AWS, aws: {region: us-east-2}}}\n",
			`apiVersion: machine.openshift.io/v1beta1
kind: MachineSet
metadata: {name: sync-x1y2z-worker-us-east-2a, namespace: openshift-machine-api}
spec:
  selector: {matchLabels: {machine.openshift.io/cluster-api-machineset: sync-x1y2z-worker-us-east-2a}}
  template:
    metadata:
      labels: {machine.openshift.io/cluster-api-machineset: sync-x1y2z-worker-us-east-2a, machine.openshift.io/cluster-api-machine-role: worker}
    spec:
      providerSpec:
        value:
          apiVersion: machine.openshift.io/v1beta1
          kind: AWSMachineProviderConfig
          instanceType: m6i.xlarge
          placement: {region: us-east-2, availabilityZone: us-east-2a}
          subnet: {id: subnet-0a1b2c3d4e5f60718}
          securityGroups: [{id: sg-0a1b2c3d4e5f60718}, {id: sg-0123abcd}]
`,
		},
	})
	// The secrets are loaded (the test stands in for External Secrets, as in the Azure sync).
	cert := selfSignedCert(t, "kbs-trustee-operator-system."+appsDomain)
	eso, stopESO := context.WithCancel(context.Background())
	t.Cleanup(stopESO)
	go standInForExternalSecrets(eso, c.k, map[string]map[string]string{"kbs-https-certificate": {"tls.crt": cert}})
	began := time.Now()
	c.createApplications(t)
	c.waitSynced(t, began, "the applications were created")

	cm, err := c.get(t, schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, "openshift-sandboxed-containers-operator", "peer-pods-cm")
	must(t, err)
	data, _, _ := unstructured.NestedStringMap(cm.Object, "data")
	want := map[string]string{
		"CLOUD_PROVIDER":       "aws",
		"AWS_REGION":           "us-east-2",
		"AWS_SUBNET_ID":        "subnet-0a1b2c3d4e5f60718",
		"AWS_SG_IDS":           "sg-0a1b2c3d4e5f60718,sg-0123abcd",
		"AWS_VPC_ID":           "vpc-0123456789abcdef0",
		"PODVM_INSTANCE_TYPE":  "m6a.large",
		"PODVM_INSTANCE_TYPES": "m6a.large,m6a.xlarge,m6a.2xlarge,m6a.4xlarge",
		"DISABLECVM":           "false",
	}
	for k, v := range want {
		if data[k] != v {
			t.Errorf("peer-pods-cm %s = %q, want %q", k, data[k], v)
		}
	}
	for k := range data {
		if strings.HasPrefix(k, "AZURE_") {
			t.Errorf("peer-pods-cm has Azure key %s on AWS", k)
		}
	}
	if err := contains(string(decodeInitdata(t, data["INITDATA"])), "kbs-trustee-operator-system."+appsDomain); err != nil {
		t.Errorf("INITDATA: %v", err)
	}
	var sources map[string]string
	ann := cm.GetAnnotations()["pattern-gen.io/peer-pods-sources"]
	must(t, json.Unmarshal([]byte(ann), &sources))
	for k, v := range map[string]string{
		"AWS_REGION":    "cluster infrastructures.config.openshift.io/cluster status.platformStatus.aws.region",
		"AWS_SUBNET_ID": "cluster the worker MachineSets' providerSpec subnet.id",
		"AWS_VPC_ID":    "values global.coco.aws.vpcID",
	} {
		if sources[k] != v {
			t.Errorf("source of %s: %q, want %q", k, sources[k], v)
		}
	}
	// Azure's egress hook is not part of an AWS pattern.
	if cmd, _ := c.egress.last(); cmd != nil {
		t.Errorf("an egress Job ran on AWS: %v", cmd)
	}
}
