/// What GitKit tells of a commit: enough to show it to a person or journal it.
public struct CommitInfo: Hashable, Sendable {
    public let id: ObjectID
    public let authorName: String
    public let authorEmail: String
    /// Author time, seconds since the Unix epoch.
    public let authorTime: Int64
    /// The author's UTC offset in minutes.
    public let authorOffsetMinutes: Int32
    /// Committer time, seconds since the Unix epoch (git log orders by it).
    public let commitTime: Int64
    /// The first line of the message.
    public let subject: String
    public let parents: [ObjectID]
}

/// An entry of a tree (a directory listing at a revision).
public struct TreeEntry: Hashable, Sendable {
    public enum Kind: Sendable { case file, directory, submodule, symlink }
    public let name: String
    public let kind: Kind
    public let id: ObjectID
}

/// A file's contents at a revision.
public struct Blob: Sendable {
    /// The blob id (what the journal records as "descriptor blob id").
    public let id: ObjectID
    public let bytes: [UInt8]

    public init(id: ObjectID, bytes: [UInt8]) {
        self.id = id
        self.bytes = bytes
    }
}
