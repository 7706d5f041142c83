"""The Kubernetes manifests of deploy/k8s/base, generated from one table of the processes."""
