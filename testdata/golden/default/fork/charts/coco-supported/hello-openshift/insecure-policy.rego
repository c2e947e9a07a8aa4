# Kata agent policy that allows every agent API request, including exec,
# log streams and file copies. For demonstrations and debugging only: it
# removes the protection the default confidential policy gives the workload.
package agent_policy

# Sandbox and container lifecycle
default CreateSandboxRequest := true
default DestroySandboxRequest := true
default CreateContainerRequest := true
default StartContainerRequest := true
default RemoveContainerRequest := true
default PauseContainerRequest := true
default ResumeContainerRequest := true
default UpdateContainerRequest := true
default StatsContainerRequest := true
default PullImageRequest := true
default WaitProcessRequest := true
default SignalProcessRequest := true

# Exec and I/O (oc exec, oc logs)
default ExecProcessRequest := true
default ReadStreamRequest := true
default WriteStreamRequest := true
default CloseStdinRequest := true
default TtyWinResizeRequest := true

# Files, storage and memory
default CopyFileRequest := true
default AddSwapRequest := true
default UpdateEphemeralMountsRequest := true
default RemoveStaleVirtiofsShareMountsRequest := true
default MemHotplugByProbeRequest := true
default OnlineCPUMemRequest := true

# Networking
default UpdateInterfaceRequest := true
default UpdateRoutesRequest := true
default ListInterfacesRequest := true
default ListRoutesRequest := true
default AddARPNeighborsRequest := true

# Guest and diagnostics
default GuestDetailsRequest := true
default GetMetricsRequest := true
default GetOOMEventRequest := true
default SetGuestDateTimeRequest := true
default ReseedRandomDevRequest := true
default StartTracingRequest := true
default StopTracingRequest := true
default SetPolicyRequest := true

# Newer agents also consult this rule when reading a container's
# termination message; it is not a ...Request API.
default ReadContainerTerminationMessage := true
