import FedArenaCore
import FedArenaSynthesis
import Testing

@Suite struct GeneratorRegistryTests {
    private func spec(_ kind: String, _ options: [String: ConfigValue] = [:]) -> ComponentSpec {
        ComponentSpec(kind: kind, options: options, keyPath: "attack.generator")
    }

    @Test func buildsEveryKind() throws {
        let registry = GeneratorRegistry.standard
        #expect(registry.kinds == ["diffusion", "gan", "gaussian-pca", "gmm", "vae"])
        let pca = try #require(try registry.make(spec("gaussian-pca", ["components": .int(7), "residual": .bool(true)])) as? GaussianPCA)
        #expect(pca.components == 7 && pca.residual)
        let gmm = try #require(try registry.make(spec("gmm", ["components": .int(3), "covariance": .string("diagonal")])) as? GaussianMixture)
        #expect(gmm.components == 3 && gmm.varianceFloor == 1e-3)
        let vae = try #require(try registry.make(spec("vae", ["latent": .int(4), "epochs": .int(2)])) as? ConditionalVAE)
        #expect(vae.latent == 4 && vae.epochs == 2 && vae.hidden == 256)
        let gan = try #require(
            try registry.make(spec("gan", ["loss": .string("non-saturating"), "label_smoothing": .double(0.1), "generator_hidden": .array([.int(64)])]))
                as? ConditionalGAN)
        #expect(gan.configuration.loss == .nonSaturating && gan.configuration.labelSmoothing == 0.1)
        #expect(gan.configuration.generatorHidden == [64] && gan.configuration.discriminatorHidden == [256, 128])
        // The hinge loss takes no label smoothing, so its YAML default is 0.
        let hinge = try #require(try registry.make(spec("gan", ["loss": .string("hinge")])) as? ConditionalGAN)
        #expect(hinge.configuration.labelSmoothing == 0 && hinge.configuration.loss == .hinge)
        let diffusion = try #require(
            try registry.make(spec("diffusion", ["schedule": .string("linear"), "sampling_steps": .int(20), "guidance": .double(0)])) as? ConditionalDiffusion)
        #expect(diffusion.configuration.schedule == .linear && diffusion.configuration.samplingSteps == 20 && diffusion.configuration.guidance == 0)
        #expect(diffusion.configuration.timesteps == 1_000)
    }

    @Test func reportsNeuralGeneratorProblemsAtTheirKey() {
        let registry = GeneratorRegistry.standard
        func path(_ kind: String, _ options: [String: ConfigValue]) -> String? {
            do {
                _ = try registry.make(spec(kind, options))
                return nil
            } catch {
                return error.keyPath
            }
        }
        #expect(path("gan", ["loss": .string("hinge"), "label_smoothing": .double(0.1)]) == "attack.generator.label_smoothing")
        #expect(path("gan", ["loss": .string("wasserstein")]) == "attack.generator.loss")
        #expect(path("gan", ["generator_hidden": .array([])]) == "attack.generator.generator_hidden")
        #expect(path("gan", ["discriminator_hidden": .array([.int(8), .int(0)])]) == "attack.generator.discriminator_hidden[1]")
        #expect(path("gan", ["steps": .int(0)]) == "attack.generator.steps")
        #expect(path("gan", ["stepz": .int(10)]) == "attack.generator.stepz")
        #expect(path("diffusion", ["sampling_steps": .int(50), "timesteps": .int(20)]) == "attack.generator.sampling_steps")
        #expect(path("diffusion", ["schedule": .string("quadratic")]) == "attack.generator.schedule")
        #expect(path("diffusion", ["label_dropout": .double(0)]) == "attack.generator.guidance")
        #expect(path("diffusion", ["time_features": .int(7)]) == "attack.generator.time_features")
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
