package published

import (
	"slices"

	"github.com/telederm/telederm/fhir"
)

// Advertise adds the published profiles to the supportedProfile of the
// types they constrain (ServiceRequest, Patient, Media, Observation,
// DiagnosticReport), for the types the statement lists. Calling it again
// adds nothing twice.
func Advertise(caps *fhir.Capabilities) {
	for i := range caps.Resources {
		rc := &caps.Resources[i]
		for _, r := range all() {
			if r.Profiled == rc.Type && !slices.Contains(rc.SupportedProfiles, r.URL) {
				rc.SupportedProfiles = append(rc.SupportedProfiles, r.URL)
			}
		}
	}
}
