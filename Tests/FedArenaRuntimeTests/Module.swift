// FedArenaRuntimeTests
