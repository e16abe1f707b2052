package dev.collab.access;

import java.util.Optional;
import java.util.UUID;

import org.springframework.data.repository.ListCrudRepository;
import org.springframework.data.repository.ListPagingAndSortingRepository;

/**
 * Users by id or login. New users are inserted with {@code JdbcAggregateTemplate.insert}
 * (their id is set).
 */
interface UserRepository extends ListCrudRepository<User, UUID>, ListPagingAndSortingRepository<User, UUID> {

    Optional<User> findByLogin(String login);

}
