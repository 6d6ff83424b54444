// FedArenaCoreTests
