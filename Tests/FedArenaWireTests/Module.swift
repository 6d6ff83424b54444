// FedArenaWireTests
