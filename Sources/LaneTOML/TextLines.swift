extension StringProtocol {
    /// The text's lines, split at any line end. Not `split(separator: "\n")`: Swift reads "\r\n"
    /// as one Character, so a file saved with Windows line ends would be one line.
    public var textLines: [SubSequence] {
        split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
    }

    /// The first line, without the spaces and tabs around it: how a token, secret or password
    /// file is read (an editor's final newline is not part of the secret).
    public var firstLineTrimmed: String {
        let line = textLines.first ?? ""
        return String(line.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
