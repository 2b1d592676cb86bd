//! Workflows (as `auth` 3.7.1 has them): a workflow is a permission name. Who may run one, whether one user may,
//! and the seed's periodic workflow check as [`Client::watch_workflow`].

use std::time::Duration;

use warden_api::{CanRun, ListingQuery, PageEnvelope, WorkflowUsers};

use crate::client::{encode_query, segment, Request};
use crate::{Client, Error};

impl Client {
    /// `GET /api/workflow/users/{workflow}`: every user who may run the workflow, sorted (all pages).
    pub async fn workflow_users(&self, workflow: &str) -> Result<Vec<String>, Error> {
        let path = format!("/api/workflow/users/{}", segment(workflow)?);
        let mut members = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let query = encode_query(&ListingQuery {
                limit: None,
                cursor: cursor.clone(),
                min_revision: self.min_revision(),
            })?;
            let page: PageEnvelope<WorkflowUsers> = self
                .send_envelope(Request::get(format!("{path}{query}")))
                .await?;
            members.extend(page.data.members);
            match page.next_cursor {
                Some(next) if cursor.as_ref() != Some(&next) => cursor = Some(next),
                _ => return Ok(members),
            }
        }
    }

    /// `GET /api/workflow/user/{user}/can_run/{workflow}`: may the user run the workflow?
    pub async fn can_run_workflow(&self, user: &str, workflow: &str) -> Result<bool, Error> {
        let path = format!(
            "/api/workflow/user/{}/can_run/{}{}",
            segment(user)?,
            segment(workflow)?,
            self.read_query()?
        );
        let answer: CanRun = self.send(Request::get(path)).await?;
        Ok(answer.has_permission)
    }

    /// The seed's periodic workflow check: every `every`, asks who may run `workflow` and hands the answer (or
    /// the error, after the client's retries) to `callback`. Runs on the current Tokio runtime until the
    /// returned [`WorkflowWatch`] is stopped or dropped; a failed round does not end it.
    pub fn watch_workflow<F>(
        &self,
        workflow: &str,
        every: Duration,
        mut callback: F,
    ) -> WorkflowWatch
    where
        F: FnMut(Result<Vec<String>, Error>) + Send + 'static,
    {
        let client = self.clone();
        let workflow = workflow.to_owned();
        let task = tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every.max(Duration::from_millis(1)));
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                callback(client.workflow_users(&workflow).await);
            }
        });
        WorkflowWatch { task }
    }
}

/// A running [`Client::watch_workflow`]; stops when stopped or dropped.
#[derive(Debug)]
pub struct WorkflowWatch {
    task: tokio::task::JoinHandle<()>,
}

impl WorkflowWatch {
    /// Stops the checks; a round under way is abandoned.
    pub fn stop(self) {
        self.task.abort();
    }
}

impl Drop for WorkflowWatch {
    fn drop(&mut self) {
        self.task.abort();
    }
}
