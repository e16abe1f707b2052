package dev.collab.project;

import org.springframework.data.repository.ListCrudRepository;
import org.springframework.data.repository.ListPagingAndSortingRepository;

interface ProjectRepository extends ListCrudRepository<Project, String>, ListPagingAndSortingRepository<Project, String> {
}
