import ChatCore
import HTTPServer

/// `/api/v1/friends*` and `/api/v1/blocks*`: the HTTP face of `SocialService`.
struct SocialRoutes: Sendable {
    let social: SocialService
    let auth: BearerAuthentication

    func register(in router: inout Router) {
        router.post(
            "/api/v1/friends/requests",
            auth.handler { request, _, principal in
                let body = try request.decodeJSON(UserIDBody.self)
                try Required.check(["user_id": body.user_id.map(String.init)])
                switch try await social.sendFriendRequest(from: principal.userID, to: body.user_id ?? 0) {
                case .pending(let pending): return .json(FriendRequestJSON(pending), status: .created)
                case .accepted(let friend): return .json(AcceptedFriendJSON(friend: FriendJSON(friend)))
                }
            })
        router.get(
            "/api/v1/friends/requests",
            auth.handler { request, _, principal in
                let direction: FriendRequestDirection
                switch request.queryValue("direction") ?? "incoming" {
                case "incoming": direction = .incoming
                case "outgoing": direction = .outgoing
                default:
                    throw HTTPError(
                        .unprocessableEntity, code: "validation_failed", message: "direction is incoming or outgoing.",
                        fields: ["direction": "must be incoming or outgoing"])
                }
                let requests = try await social.friendRequests(userID: principal.userID, direction: direction)
                return .json(FriendRequestsJSON(requests: requests.map(FriendRequestJSON.init)))
            })
        router.post(
            "/api/v1/friends/requests/:id/accept",
            auth.handler { request, _, principal in
                let friend = try await social.acceptFriendRequest(id: try request.id("id"), userID: principal.userID)
                return .json(AcceptedFriendJSON(friend: FriendJSON(friend)))
            })
        router.post(
            "/api/v1/friends/requests/:id/reject",
            auth.handler { request, _, principal in
                try await social.rejectFriendRequest(id: try request.id("id"), userID: principal.userID)
                return HTTPResponse(status: .noContent)
            })
        router.delete(
            "/api/v1/friends/requests/:id",
            auth.handler { request, _, principal in
                try await social.cancelFriendRequest(id: try request.id("id"), userID: principal.userID)
                return HTTPResponse(status: .noContent)
            })
        router.get(
            "/api/v1/friends",
            auth.handler { _, _, principal in
                .json(FriendsJSON(friends: try await social.friends(userID: principal.userID).map(FriendJSON.init)))
            })
        router.delete(
            "/api/v1/friends/:user_id",
            auth.handler { request, _, principal in
                try await social.unfriend(userID: principal.userID, friendID: try request.id("user_id"))
                return HTTPResponse(status: .noContent)
            })
        router.post(
            "/api/v1/blocks/:user_id",
            auth.handler { request, _, principal in
                try await social.block(userID: principal.userID, targetID: try request.id("user_id"))
                return HTTPResponse(status: .noContent)
            })
        router.delete(
            "/api/v1/blocks/:user_id",
            auth.handler { request, _, principal in
                try await social.unblock(userID: principal.userID, targetID: try request.id("user_id"))
                return HTTPResponse(status: .noContent)
            })
        router.get(
            "/api/v1/blocks",
            auth.handler { _, _, principal in
                let blocks = try await social.blocks(userID: principal.userID)
                return .json(
                    BlocksJSON(blocks: blocks.map { BlockJSON(user: ProfileJSON($0.user), created_at: $0.createdAt) }))
            })
    }
}

struct UserIDBody: Decodable {
    let user_id: Int64?
}
