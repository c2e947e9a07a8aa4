// Package forkrepo names the repository URL tests give the forks they scaffold: the embedded
// default config has none (a fork must name its own repository).
package forkrepo

// URL is the fork's repository in tests; golden files carry it.
const URL = "https://github.com/example-org/coco-pattern.git"
