/** Berth without the work it does with no request behind it; a test or a bench turns back on what it is about. */
export const NO_BACKGROUND_WORK = {
  // the clusters that tests and the bench fleet make point at hosts that do not exist
  K8S_WATCH: 'false',
  // their OCI registries are names that do not exist
  CHART_DISCOVERY: 'false',
  // tests of the API look at tasks as they were created; in the bench, running them would change the rows being read
  TASK_WORKER: 'false',
  DEPLOYMENT_CREDENTIALS: 'false',
  // their deployments' endpoints are hosts that do not exist
  REPORTED_STATUS: 'false',
  RESOURCE_SYNC: 'false',
};
