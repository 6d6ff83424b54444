/// Reads an `npy` dataset split: a features array `[count, ...shape]` and a labels array `[count]`
/// (see ``DatasetSource``). Internal: ``DatasetSource`` is the public face.
enum NPYDataset {
    /// Feature dtypes read: `uint8` pixels (kept as bytes), or float32 / float64 values.
    static let featureDescrs = ["|u1", "<u1", "<f4", "<f8"]

    /// Scans a split without keeping its features: checks shapes, dtypes, lengths, values and labels.
    static func scan(features: String, labels: String, declaredShape: [Int]?, limit: Int?) throws(DataError) -> SplitScan {
        let info = try NPYFile.info(features)
        try checkDescr(info, path: features)
        let shape = try SampleShape.resolve(declared: declaredShape, item: Array(info.shape.dropFirst()), path: features)
        let rawLabels = try readLabels(labels, limit: limit)
        let count = min(info.rowCount, limit ?? info.rowCount)
        try checkLengths(labels: rawLabels.count, labelsPath: labels, samples: count, featuresPath: features, limited: limit != nil)
        _ = try readFeatures(features, rows: nil, limit: limit, shape: shape, keep: false)
        var largest = 0
        var largestIndex = 0
        for (index, label) in rawLabels.enumerated() where Int(label) > largest {
            largest = Int(label)
            largestIndex = index
        }
        return SplitScan(
            path: features, labelsPath: labels, shape: shape, count: count, available: info.rowCount, largestLabel: largest,
            largestLabelIndex: largestIndex)
    }

    /// The labels of the first `limit` samples, checked against `classCount`.
    static func labels(_ path: String, limit: Int?, classCount: Int) throws(DataError) -> [Int32] {
        try SampleShape.checkedLabels(try readLabels(path, limit: limit), classCount: classCount, path: path)
    }

    /// The samples at `rows` (all when `nil`) of the first `limit`, checked against `shape` and `classCount`.
    static func load(
        features: String, labels: String, rows: [Int]?, limit: Int?, shape: [Int], classCount: Int
    ) throws(DataError) -> SampleStore {
        let allLabels = try Self.labels(labels, limit: limit, classCount: classCount)
        let (values, available) = try readFeatures(features, rows: rows, limit: limit, shape: shape, keep: true)
        try checkLengths(labels: allLabels.count, labelsPath: labels, samples: available, featuresPath: features, limited: limit != nil)
        let picked = rows.map { $0.map { allLabels[$0] } } ?? allLabels
        return SampleStore(values: values, labels: picked, featureCount: shape.reduce(1, *), classCount: classCount)
    }

    private static func checkDescr(_ info: NPYFile.ArrayInfo, path: String) throws(DataError) {
        guard featureDescrs.contains(info.descr) else {
            throw DataError(
                .unsupportedFormat,
                "features of dtype '\(info.descr)'; expected uint8 pixels ('|u1') or float32 / float64 values ('<f4', '<f8')",
                path: path)
        }
    }

    private static func checkLengths(labels: Int, labelsPath: String, samples: Int, featuresPath: String, limited: Bool) throws(DataError) {
        guard labels == samples else {
            throw DataError(
                .malformedFile, "\(labels) labels for the \(samples) samples of \(featuresPath)\(limited ? " (after the subset)" : "")",
                path: labelsPath)
        }
    }

    /// Reads a labels array: `[count]` or `[count, 1]`, integers or whole floats, none negative.
    private static func readLabels(_ path: String, limit: Int?) throws(DataError) -> [Int32] {
        let info = try NPYFile.info(path)
        guard info.shape.count == 1 || (info.shape.count == 2 && info.shape[1] == 1) else {
            throw DataError(
                .malformedFile, "labels of shape \(NPYHeader.shapeLiteral(info.shape)); expected one label per sample, shape (n,)", path: path)
        }
        var labels = [Int32]()
        labels.reserveCapacity(min(info.rowCount, limit ?? info.rowCount))
        var value: Float = 0
        try NPYFile.scanRows(path, rows: nil, limit: limit) { info, index, row throws(DataError) in
            withUnsafeMutablePointer(to: &value) { pointer in
                NPYFile.floats(row, descr: info.descr, count: 1, into: UnsafeMutableBufferPointer(start: pointer, count: 1))
            }
            guard value.isFinite, value == value.rounded() else {
                throw DataError(.malformedFile, "label \(value) at sample \(index) is not a whole number", path: path)
            }
            guard value >= 0 else { throw DataError(.malformedFile, "label \(Int(value)) at sample \(index) is negative", path: path) }
            guard value < Float(Int32.max) else {
                throw DataError(.malformedFile, "label \(value) at sample \(index) is too large for a class index", path: path)
            }
            labels.append(Int32(value))
        }
        return labels
    }

    /// Reads (or only checks, when `keep` is false) the features at `rows`.
    /// - Returns: The values (empty when not kept) and the number of samples in the (limited) file.
    private static func readFeatures(
        _ path: String, rows: [Int]?, limit: Int?, shape: [Int], keep: Bool
    ) throws(DataError) -> (SampleStore.Values, available: Int) {
        let info = try NPYFile.info(path)
        try checkDescr(info, path: path)
        _ = try SampleShape.resolve(declared: shape, item: Array(info.shape.dropFirst()), path: path)
        let width = info.rowValues
        let image = SampleShape.isImage(shape)
        let wanted = rows?.count ?? min(info.rowCount, limit ?? info.rowCount)
        if info.descr == "|u1" || info.descr == "<u1" {
            var bytes = [UInt8]()
            if keep { bytes.reserveCapacity(wanted * width) }
            if keep || rows != nil {
                try NPYFile.scanRows(path, rows: rows, limit: limit) { _, _, row throws(DataError) in
                    if keep { bytes.append(contentsOf: row) }
                }
            } else {
                // Bytes need no value checks, but the data section's length does.
                try NPYFile.scanRows(path, rows: [], limit: limit) { _, _, _ throws(DataError) in }
            }
            return (.pixels(bytes), min(info.rowCount, limit ?? info.rowCount))
        }
        var floats = [Float]()
        if keep { floats.reserveCapacity(wanted * width) }
        let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(width, 1))
        defer { buffer.deallocate() }
        try NPYFile.scanRows(path, rows: rows, limit: limit) { info, index, row throws(DataError) in
            NPYFile.floats(row, descr: info.descr, count: width, into: buffer)
            for position in 0..<width {
                try SampleShape.checkValue(buffer[position], image: image, sample: index, position: position, path: path)
            }
            if keep { floats.append(contentsOf: buffer) }
        }
        return (.floats(floats), min(info.rowCount, limit ?? info.rowCount))
    }
}
