// FedArenaNumericsTests
