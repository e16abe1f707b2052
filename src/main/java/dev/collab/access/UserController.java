package dev.collab.access;

import java.util.List;
import java.util.UUID;

import dev.collab.api.ProblemResponses;
import dev.collab.web.ApiException;
import dev.collab.web.ProblemCode;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import jakarta.validation.Valid;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PatchMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code /api/users}: server admins manage users (docs/api.md). The filter chain admits
 * only server admins.
 */
@RestController
@RequestMapping(path = "/api/users", produces = "application/json")
class UserController {

    private final Users users;

    UserController(Users users) {
        this.users = users;
    }

    @Operation(summary = "Every user, ordered by login (server admins)")
    @ProblemResponses(ProblemCode.FORBIDDEN)
    @GetMapping
    UserList list() {
        return new UserList(users.all().stream().map(User::view).toList());
    }

    @Operation(summary = "Create a user (server admins)")
    @ApiResponse(responseCode = "201", description = "Created")
    @ProblemResponses(ProblemCode.FORBIDDEN)
    @PostMapping(consumes = "application/json")
    ResponseEntity<UserView> create(@Valid @RequestBody Users.NewUser body) {
        return ResponseEntity.status(HttpStatus.CREATED).body(users.create(body).view());
    }

    @Operation(summary = "Change a user (server admins); a disabled user's sessions and tokens stop working at once")
    @ProblemResponses({ ProblemCode.FORBIDDEN, ProblemCode.LAST_ADMIN })
    @PatchMapping(path = "/{id}", consumes = "application/json")
    UserView change(@PathVariable UUID id, @Valid @RequestBody Users.UserChange body,
            jakarta.servlet.http.HttpServletRequest request) {
        if (body.displayName() != null && body.displayName().isBlank()) {
            throw ApiException.invalid("displayName", "must not be blank");
        }
        jakarta.servlet.http.HttpSession session = request.getSession(false);
        return users.change(id, body, session == null ? null : session.getId()).view();
    }

    record UserList(List<UserView> items) {
    }

}
