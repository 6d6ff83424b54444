import FedArenaCore
import FedArenaSynthesis
import Testing

@Suite struct GeneratorRegistryTests {
    private func spec(_ kind: String, _ options: [String: ConfigValue] = [:]) -> ComponentSpec {
        ComponentSpec(kind: kind, options: options, keyPath: "attack.generator")
    }

    @Test func buildsEveryKind() throws {
        let registry = GeneratorRegistry.standard
        #expect(registry.kinds == ["gaussian-pca", "gmm", "vae"])
        let pca = try #require(try registry.make(spec("gaussian-pca", ["components": .int(7), "residual": .bool(true)])) as? GaussianPCA)
        #expect(pca.components == 7 && pca.residual)
        let gmm = try #require(try registry.make(spec("gmm", ["components": .int(3), "covariance": .string("diagonal")])) as? GaussianMixture)
        #expect(gmm.components == 3 && gmm.varianceFloor == 1e-3)
        let vae = try #require(try registry.make(spec("vae", ["latent": .int(4), "epochs": .int(2)])) as? ConditionalVAE)
        #expect(vae.latent == 4 && vae.epochs == 2 && vae.hidden == 256)
    }

    @Test func rejectsBadSpecs() {
        let registry = GeneratorRegistry.standard
        #expect { try registry.make(spec("gpm")) } throws: {
            let error = $0 as? ConfigError
            return error?.keyPath == "attack.generator.kind" && (error?.message.contains("did you mean \"gmm\"") ?? false)
        }
        #expect { try registry.make(spec("gmm", ["componets": .int(3)])) } throws: {
            let error = $0 as? ConfigError
            return error?.code == .unknownKey && error?.keyPath == "attack.generator.componets"
        }
        #expect { try registry.make(spec("gmm", ["covariance": .string("full")])) } throws: {
            ($0 as? ConfigError)?.keyPath == "attack.generator.covariance"
        }
        #expect { try registry.make(spec("gaussian-pca", ["components": .int(0)])) } throws: {
            ($0 as? ConfigError)?.keyPath == "attack.generator.components"
        }
        #expect { try registry.make(spec("vae", ["lr": .string("fast")])) } throws: { ($0 as? ConfigError)?.code == .wrongType }
        #expect { try registry.make(spec("gaussian-pca", ["small_classes": .string("drop")])) } throws: {
            ($0 as? ConfigError)?.keyPath == "attack.generator.small_classes"
        }
    }
}
