// FedArenaScenariosTests
