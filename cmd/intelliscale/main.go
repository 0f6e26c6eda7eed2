// Command intelliscale is the IntelliScale lab: simulate, train, benchmark and deploy
// autoscaling policies. All logic lives in the packages it wires together.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "intelliscale: no commands yet")
	os.Exit(2)
}
