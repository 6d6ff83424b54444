// FedArenaSynthesisTests
