import Storage

extension MessageService {
    // MARK: Search

    /// Results per page when the client gives no limit, and the most it may ask for.
    public static let defaultSearchLimit = 20
    public static let searchPageMax = 50

    /// Full-text search of the live user messages in the caller's rooms (only `roomID` if given), newest
    /// first, `limit` (clamped to 1...``searchPageMax``) at a time. `cursor` is a previous page's
    /// `nextCursor`, which is nil on the last page.
    ///
    /// The query is a list of words (diacritics and case do not matter); all must occur. Nothing in it is
    /// search syntax: quotes, `OR`, `*`, `NEAR(` are just text. Snippets are HTML-escaped with the matches
    /// in `<mark>`…`</mark>`.
    ///
    /// Errors: ``ChatError/validation(_:)`` (`q` empty or longer than 1,000 characters, `cursor` not one of
    /// ours), ``ChatError/notFound`` (`roomID` given and the caller is not a member).
    public func search(
        userID: Int64, query: String, roomID: Int64? = nil, limit: Int = MessageService.defaultSearchLimit,
        cursor: String? = nil
    ) async throws(ChatError) -> (results: [SearchResult], nextCursor: String?) {
        let terms = try MessageValidation.searchTerms(query).get()
        var decodedCursor: Int64?
        if let cursor, !cursor.isEmpty {
            guard let id = Self.decodeSearchCursor(cursor) else {
                throw .validation(["cursor": "is not a valid cursor"])
            }
            decodedCursor = id
        }
        let beforeID = decodedCursor
        if let roomID {
            _ = try await member(roomID: roomID, userID: userID)
        }
        let pageSize = min(max(limit, 1), Self.searchPageMax)
        let (results, hasMore) = try await read { [store, links] db in
            // One hit more than the page tells whether another page follows.
            let hits = try store.search(
                terms: terms, userID: userID, roomID: roomID, beforeID: beforeID, limit: pageSize + 1, db)
            let page = Array(hits.prefix(pageSize))
            let messages = try Self.messages(page.map(\.message), viewerID: userID, store: store, links: links, db)
            let results = zip(messages, page).map { message, hit in
                SearchResult(message: message, snippet: Self.snippetHTML(hit.snippet))
            }
            return (results, hits.count > pageSize)
        }
        let next = hasMore ? results.last.map { String($0.message.id) } : nil
        return (results, next)
    }

    /// The cursor is the id of the last message of a page: results continue below it.
    static func decodeSearchCursor(_ cursor: String) -> Int64? {
        guard cursor.utf8.count <= 19, cursor.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            let id = Int64(cursor), id > 0
        else { return nil }
        return id
    }

    /// The store's snippet as HTML: the message text escaped (it is user input), the match marks turned into
    /// `<mark>` elements. A message that itself contains the private-use mark characters only gets stray,
    /// harmless `<mark>` tags in its own snippet.
    static func snippetHTML(_ raw: String) -> String {
        var html = ""
        html.reserveCapacity(raw.utf8.count + 32)
        for scalar in raw.unicodeScalars {
            switch scalar {
            case "&": html += "&amp;"
            case "<": html += "&lt;"
            case ">": html += "&gt;"
            case MessageStore.snippetOpen: html += "<mark>"
            case MessageStore.snippetClose: html += "</mark>"
            default: html.unicodeScalars.append(scalar)
            }
        }
        return html
    }
}
